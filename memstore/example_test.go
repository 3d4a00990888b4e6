package memstore_test

import (
	"bytes"
	"fmt"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// memstore keeps sessions in this process's memory: for tests and examples.
// It marks itself development-only, so a production Config refuses it.
func ExampleNew() {
	secret := bytes.Repeat([]byte("k"), 32)
	if _, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secret}}); err == nil {
		fmt.Println("development: ok")
	}
	_, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secret}, Production: true})
	fmt.Println("production:", err)
	// Output:
	// development: ok
	// production: tether: Config.Store *memstore.Store is for development only and cannot be used in production; use a persistent store such as sqlitestore or redisstore
}

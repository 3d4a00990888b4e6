package sqlitestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
)

// Open a store, keep a record in it, and read it back after a restart.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "tether-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tether.db")

	store, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, now := context.Background(), time.Now()
	err = store.Create(ctx, "store-key", &tether.Record{
		Values:           map[string]json.RawMessage{"views": json.RawMessage("1")},
		CreatedAt:        now,
		IdleDeadline:     now.Add(30 * time.Minute),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	store.Close()

	store, _ = sqlitestore.Open(path, sqlitestore.Options{}) // a restart
	defer store.Close()
	rec, err := store.Update(ctx, "store-key", time.Now(), &tether.Patch{Incr: map[string]int64{"views": 1}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(rec.Values["views"]))
	// Output: 2
}

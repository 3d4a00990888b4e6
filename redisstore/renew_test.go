package redisstore_test

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/internal/testenv/renewtest"
	"github.com/tetherhq/tether/redisstore"
)

// Renewal with theft detection on Redis (issue 11.3): the update script's
// compare-and-set picks one renewing request of a burst.
func TestRenewal(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("t%d:", prefixes.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	renewtest.Run(t, s)
}

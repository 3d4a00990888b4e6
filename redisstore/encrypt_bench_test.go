package redisstore_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/internal/testenv/encbench"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
)

// BenchmarkEncryption is GET /profile and GET /views on a real Redis with
// tether.Config.EncryptionKeys off and on (see encbench.Run). With keys,
// /views is two Redis calls (a read, then the compare-and-set) instead of
// one. Redis's own CPU is not counted in cpu-ns/op.
func BenchmarkEncryption(b *testing.B) {
	srv := redistest.Start(b, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	store, _ := redisstore.New(rdb, redisstore.Options{})
	_ = store.Preload(context.Background())
	encbench.Run(b, store, bytes.Repeat([]byte("k"), 32))
}

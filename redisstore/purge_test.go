package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
)

// DeleteAll walks every master of a Cluster (SCAN, never KEYS), deletes
// more sessions than one SCAN batch holds, and leaves alone the keys of
// another prefix, including one that the unescaped glob of its own prefix
// would match ("p*:" against "p1:").
func TestDeleteAllEveryMasterOwnPrefixOnly(t *testing.T) {
	nodes := redistest.Cluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
	defer rdb.Close()
	ctx := context.Background()
	mine, err := redisstore.New(rdb, redisstore.Options{Prefix: "p*:"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := redisstore.New(rdb, redisstore.Options{Prefix: "p1:"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500 // over two SCAN batches in all
	now := time.Now()
	newKey := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	rec := func(i int) *tether.Record {
		r := &tether.Record{Values: map[string]json.RawMessage{}, CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)}
		if i%2 == 0 { // half authenticated, half anonymous
			r.UserID, r.AuthenticatedAt = fmt.Sprintf("user-%d", i%50), now
		}
		return r
	}
	var mineKeys []string
	for i := range n {
		k := newKey()
		if err := mine.Create(ctx, k, rec(i)); err != nil {
			t.Fatal(err)
		}
		mineKeys = append(mineKeys, k)
	}
	var otherKeys []string
	for i := range 20 {
		k := newKey()
		if err := other.Create(ctx, k, rec(i)); err != nil {
			t.Fatal(err)
		}
		otherKeys = append(otherKeys, k)
	}
	got, err := mine.DeleteAll(ctx)
	if err != nil || got != n {
		t.Fatalf("DeleteAll: got (%d, %v), want (%d, nil)", got, err, n)
	}
	for _, k := range mineKeys[:100] {
		if _, err := mine.Load(ctx, k, now, now.Add(time.Hour)); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("Load of a purged session: got %v, want ErrNotFound", err)
		}
	}
	for _, k := range otherKeys {
		if _, err := other.Load(ctx, k, now, now.Add(time.Hour)); err != nil {
			t.Fatalf("Load of the other prefix's session: got %v, want it kept", err)
		}
	}
	// Nothing of "p*:" is left on any master: sessions and indexes alike.
	var left, scans, keys int
	for _, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.Addr})
		ks, _ := c.Keys(ctx, `p\*:*`).Result() // the test may; the store never does
		left += len(ks)
		c.Close()
		stats := node.CommandStats(t)
		scans += stats["scan"]
		keys += stats["keys"]
	}
	if left != 0 {
		t.Fatalf("keys of the purged prefix left: got %d, want 0", left)
	}
	if scans < 3 {
		t.Fatalf("SCAN calls over the 3 masters: got %d, want at least one per master", scans)
	}
	if keys != len(nodes) { // the test's own three
		t.Fatalf("KEYS calls: got %d, want only the test's %d", keys, len(nodes))
	}
}

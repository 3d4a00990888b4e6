package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
)

var _ tether.Purger = (*Store)(nil)

// purgeBatch is the COUNT hint of each SCAN of DeleteAll, and so about how
// many keys one pipelined round of UNLINKs removes.
const purgeBatch = 1000

// DeleteAll implements [tether.Purger]: on every master (each master of a
// Cluster, each shard of a Ring, the one server otherwise) it walks the
// keys with SCAN MATCH prefix* in batches of about 1000 and UNLINKs each
// batch in one pipeline, first the sessions (prefix+"s:…", anonymous ones
// included), then the per-user indexes (prefix+"u:{…}"). It never runs KEYS
// and never blocks Redis for longer than one batch; UNLINK frees memory in
// the background. Keys outside the Store's prefix are left alone. It
// returns how many session keys it removed.
//
// SCAN guarantees that every key present for the whole walk is found, so
// no session that existed when DeleteAll started survives it; a session
// created meanwhile may. Each key is UNLINKed on its own (pipelined): a
// Cluster refuses multi-key commands across slots, even on one node.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	var sessions atomic.Int64
	patterns := []struct {
		match string
		count bool
	}{
		{globEscape(s.prefix) + "s:*", true},
		{globEscape(s.prefix) + "u:{*", false},
	}
	purge := func(ctx context.Context, c *redis.Client) error {
		for _, p := range patterns {
			n, err := unlinkMatching(ctx, c, p.match)
			if err != nil {
				return err
			}
			if p.count {
				sessions.Add(n)
			}
		}
		return nil
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, purge)
	case *redis.Ring:
		err = c.ForEachShard(ctx, purge)
	case *redis.Client:
		err = purge(ctx, c)
	default:
		return 0, fmt.Errorf("redisstore: delete all: a %T cannot be walked node by node", s.rdb)
	}
	if err != nil {
		return int(sessions.Load()), s.fail("delete all", err)
	}
	return int(sessions.Load()), nil
}

// unlinkMatching UNLINKs every key of one node that matches the glob
// pattern match, a SCAN batch at a time, and returns how many it removed.
func unlinkMatching(ctx context.Context, c *redis.Client, match string) (int64, error) {
	var n int64
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, purgeBatch).Result()
		if err != nil {
			return n, err
		}
		if len(keys) > 0 {
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(ctx, k)
				}
				return nil
			})
			if err != nil {
				return n, err
			}
			for _, cmd := range cmds {
				n += cmd.(*redis.IntCmd).Val()
			}
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

// globEscape quotes the characters that are special in a Redis glob
// pattern (* ? [ ] \), so that a prefix matches only itself.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

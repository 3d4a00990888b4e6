package redisstore

import (
	"context"
	"strings"
	"sync/atomic"

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
	for _, p := range []struct {
		match string
		count bool
	}{
		{globEscape(s.prefix) + "s:*", true},
		{globEscape(s.prefix) + "u:{*", false},
	} {
		err := s.be.scan(ctx, p.match, purgeBatch, func(keys []string) error {
			n, err := s.be.unlink(ctx, keys)
			if s.cache != nil {
				// These keys are gone, and their invalidations may still be
				// on the way: from this batch on, read everything fresh
				// for a copy's lifetime (not only once the walk is over).
				s.cache.allFresh.Store(mono() + int64(s.cache.ttl))
			}
			if p.count {
				for _, d := range n {
					sessions.Add(d)
				}
			}
			return err
		})
		if err != nil {
			return int(sessions.Load()), s.fail("delete all", err)
		}
	}
	return int(sessions.Load()), nil
}

// globEscape quotes the characters that are special in a Redis glob
// pattern (* ? [ ] \), so that a prefix matches only itself.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

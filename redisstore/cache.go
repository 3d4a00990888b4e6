package redisstore

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// Cached reads (a Store on a rueidis client, Options.CacheTTL ≥ 0).
//
// Load first asks the client-side cache (rueidis DoCache: RESP3 CLIENT
// TRACKING, so Redis pushes an invalidation when the key changes anywhere).
// The cached copy is served, with no Redis command, only if all of these
// hold; otherwise Load reads Redis as without a cache (a GET, or the load
// script when the deadline must move: see Store.Load):
//
//   - the caller did not ask for a fresh read (tether.WithFreshRead: the
//     Manager asks for unsafe methods and sensitive routes);
//   - this Store did not write the key within the last CacheTTL (see
//     readCache's shards below);
//   - the copy is live at now by its own deadlines: an expired copy is never
//     served, the script decides;
//   - its idle deadline is behind the wanted one (min(idleDeadline,
//     absolute)) by less than the slack, max(d/30, min(1 s, d/10)) with
//     d = idleDeadline-now (1 minute for a 30-minute idle timeout), and not
//     ahead of it (a backward move is always made);
//   - the copy was fetched less than CacheTTL ago (rueidis's client-side
//     TTL; also checked here on the value returned).
//
// So the idle deadline still moves in Redis, by the load script, on the
// first read after the cached copy fell behind by the slack; that write
// invalidates every instance's copy.

// DefaultCacheTTL is the default Options.CacheTTL: the longest a session
// read from the client-side cache is served without asking Redis again. It
// bounds staleness when invalidations cannot arrive (a half-open
// connection that the client has not yet declared dead).
const DefaultCacheTTL = time.Second

// DefaultCacheBytes is the default Options.CacheBytes: the client-side
// cache of each rueidis connection holds up to 64 MiB (about 70,000
// sessions of 0.9 KB).
const DefaultCacheBytes = 64 << 20

// CacheStats counts the cached store's reads.
type CacheStats struct {
	// Hits are Loads served from the client-side cache, no Redis command.
	Hits uint64
	// Misses are Loads that fetched the key into the cache (one command).
	Misses uint64
	// Fresh are Loads that read Redis outside the cache (a GET or the load
	// script): fresh reads asked for, keys this Store wrote recently, copies
	// too far behind or expired.
	Fresh uint64
	// Invalidations are the keys Redis told the client to drop (only for a
	// client built by OpenRueidis); a flush of the whole cache counts one.
	Invalidations uint64
}

// CacheStats returns the counters since the Store was made; all zero
// without a cache.
func (s *Store) CacheStats() CacheStats {
	c := s.cache
	if c == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Fresh: c.fresh.Load(), Invalidations: c.invalidations.Load()}
}

// CacheEnabled reports whether Loads may be served from a client-side cache.
func (s *Store) CacheEnabled() bool { return s.cache != nil }

// readCache is the Store's state for cached reads.
type readCache struct {
	ttl time.Duration

	hits, misses, fresh, invalidations atomic.Uint64

	// shards remember, per key, when this Store last wrote it: a write's
	// invalidation push may reach the tracking connection after the
	// write's reply (it is another connection), so a copy fetched before
	// the write could otherwise be served after it. For CacheTTL after the
	// write completes, the key is read from Redis outside the cache (a
	// plain GET for a busy session: see Store.Load); after CacheTTL, every
	// copy fetched before the write has expired anyway. So a write of this
	// Store is never hidden from its next read, without relying on when
	// the push arrives. (An earlier rule served a copy fetched after the
	// write; it cost a cache fetch (five commands in a MULTI) after every
	// write, where a plain GET suffices: a session written on every request,
	// such as a counter, paid it on every request.)
	seed   maphash.Seed
	shards [recentShards]recentShard
	// allFresh (mono()): when a shard is full or DeleteAll ran, every key is read
	// fresh until then (fail closed, memory stays bounded).
	allFresh atomic.Int64
}

const (
	recentShards   = 16
	recentPerShard = 1 << 14 // 262,144 writes within one CacheTTL in all
	recentSweepMin = 256
)

type recentShard struct {
	mu    sync.Mutex
	until map[string]int64 // key -> mono() when its mark ends
	sweep int              // sweep expired entries when the map reaches this size
}

var epoch0 = time.Now()

func mono() int64 { return int64(time.Since(epoch0)) }

func newReadCache(ttl time.Duration) *readCache {
	c := &readCache{ttl: ttl, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].until = map[string]int64{}
		c.shards[i].sweep = recentSweepMin
	}
	return c
}

func (c *readCache) shard(key string) *recentShard {
	return &c.shards[maphash.String(c.seed, key)%recentShards]
}

// wrote marks key as written just now by this Store (the write has
// completed).
func (c *readCache) wrote(key string) {
	now := mono()
	until := now + int64(c.ttl)
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.until) >= sh.sweep {
		for k, u := range sh.until {
			if u <= now {
				delete(sh.until, k)
			}
		}
		sh.sweep = max(recentSweepMin, 2*len(sh.until))
	}
	if len(sh.until) >= recentPerShard {
		sh.mu.Unlock()
		c.allFresh.Store(until)
		return
	}
	sh.until[key] = until
	sh.mu.Unlock()
}

// recentWrite reports whether key must be read from Redis: this Store
// wrote it within the last CacheTTL, or every key must be (the recent set
// overflowed, or DeleteAll ran).
func (c *readCache) recentWrite(key string) bool {
	now := mono()
	if c.allFresh.Load() > now {
		return true
	}
	sh := c.shard(key)
	sh.mu.Lock()
	until, ok := sh.until[key]
	sh.mu.Unlock()
	return ok && until > now
}

// slack is how far behind the wanted idle deadline a cached copy's may be
// and still be served: max(d/30, min(1 s, d/10)), d = want-now (the second
// term is the load script's own skip, so the script writes whenever the
// cache gives up on a copy).
func slack(now, want time.Time) time.Duration {
	d := want.Sub(now)
	return max(d/30, scriptSkip(d))
}

// servable reports whether a copy (cached, or just read with a plain GET)
// may be returned by Load(now, idleDeadline) as if the load script had run
// with the smallest move maxBehind: it is live, and its idle deadline is
// behind the wanted one (capped by the absolute deadline) by less than
// maxBehind, never ahead of it.
func servable(rec *tether.Record, now, idleDeadline time.Time, maxBehind time.Duration) bool {
	if expired, _ := rec.ExpiredAt(now); expired {
		return false
	}
	if unixms.From(idleDeadline) == 0 {
		return true // no move asked for
	}
	want := idleDeadline
	if rec.AbsoluteDeadline.Before(want) {
		want = rec.AbsoluteDeadline
	}
	behind := want.Sub(rec.IdleDeadline)
	return behind >= 0 && behind < maxBehind
}

// loadCached serves Load from the client-side cache if the rules allow; ok
// false means: read Redis outside the cache.
func (s *Store) loadCached(ctx context.Context, key string, now, idleDeadline time.Time) (rec *tether.Record, ok bool, err error) {
	c := s.cache
	if tether.FreshRead(ctx) {
		return nil, false, nil
	}
	if c.recentWrite(key) {
		return nil, false, nil // this Store's own write: ask Redis
	}
	v, hit, pxat, err := s.be.cachedGet(ctx, key, c.ttl)
	switch {
	case err == errNil:
		// No such key (cached: a Create anywhere invalidates it).
		s.count(hit)
		return nil, true, tether.ErrNotFound
	case err == errConnLost:
		return nil, false, nil
	case err != nil && isWrongType(err):
		return nil, false, nil // the script's verdict (not a session)
	case err != nil:
		return nil, true, s.fail("load", err)
	}
	if pxat > 0 && pxat <= time.Now().UnixMilli() {
		// A fetch that joined one in flight for longer than the TTL.
		return nil, false, nil
	}
	rec, derr := decodeRecord(v)
	if derr != nil || !servable(rec, now, idleDeadline, slack(now, idleDeadline)) {
		return nil, false, nil
	}
	s.count(hit)
	return rec, true, nil
}

func (s *Store) count(hit bool) {
	if hit {
		s.cache.hits.Add(1)
	} else {
		s.cache.misses.Add(1)
	}
}

// CacheCounts returns the counters of CacheStats as numbers (hits, misses,
// fresh reads, invalidations), the shape metrics.Metrics.ClientCache takes.
func (s *Store) CacheCounts() (hits, misses, fresh, invalidations uint64) {
	st := s.CacheStats()
	return st.Hits, st.Misses, st.Fresh, st.Invalidations
}

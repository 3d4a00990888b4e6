// Package redisthrottle is a [throttle.Counter] in Redis, shared by every
// instance of an application, for [throttle.New]. It lives in its own
// package so that users of the in-memory counter do not depend on go-redis.
//
// Each key is a hash prefix+"login:"+key holding the count (field n) and a
// random id of its window (field w); it expires with its window, so Redis
// holds nothing for keys that stopped failing. Every operation is one script
// call (or one DEL), atomic on the server: concurrent Adds from many
// instances are all counted. It works on a single node, Sentinel or Cluster
// (one key per call), through any [redis.UniversalClient].
//
// Run that Redis with maxmemory-policy noeviction (or a volatile-* policy
// only if nothing else with a TTL may be evicted first): an evicted key is a
// live window forgotten, which hands a targeted account a fresh budget. With
// noeviction a full Redis fails the Add, [throttle.Limiter.Begin] returns
// the error, and the login is refused rather than let through uncounted.
//
// Errors wrap [tether.ErrStoreUnavailable], so a login handler can answer
// 503 when Redis is down rather than let attempts through uncounted.
//
// A [Counter] is safe for concurrent use.
package redisthrottle

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/throttle"
)

// Counter is a [throttle.Counter] in Redis.
type Counter struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ throttle.Counter = (*Counter)(nil)

// New returns a Counter on rdb whose keys start with prefix+"login:". The
// prefix defaults to "tether:", the prefix of the redisstore package's
// session keys; give applications that share one Redis their own.
func New(rdb redis.UniversalClient, prefix string) *Counter {
	if prefix == "" {
		prefix = "tether:"
	}
	return &Counter{rdb: rdb, prefix: prefix + "login:"}
}

// addScript: ARGV window ms, a fresh window id (used if this Add starts
// the window). Returns {n, ms left, window id}.
var addScript = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local left = redis.call('PTTL', KEYS[1])
if n == 1 or left < 0 then
  redis.call('HSET', KEYS[1], 'w', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left, redis.call('HGET', KEYS[1], 'w')}
`)

// undoScript decrements only the window it is given, so it never creates a
// key and never takes from a later window; the key goes at zero.
var undoScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'w') ~= ARGV[1] then return 0 end
if redis.call('HINCRBY', KEYS[1], 'n', -1) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`)

func unavailable(err error) error {
	return fmt.Errorf("redisthrottle: %w: %w", tether.ErrStoreUnavailable, err)
}

// Add implements [throttle.Counter.Add].
func (r *Counter) Add(ctx context.Context, key string, d time.Duration) (throttle.Count, error) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	res, err := addScript.Run(ctx, r.rdb, []string{r.prefix + key}, d.Milliseconds(), base64.RawURLEncoding.EncodeToString(id[:])).Slice()
	if err != nil {
		return throttle.Count{}, unavailable(err)
	}
	if len(res) != 3 {
		return throttle.Count{}, unavailable(fmt.Errorf("add script returned %d values, want 3", len(res)))
	}
	n, ok1 := res[0].(int64)
	left, ok2 := res[1].(int64)
	win, ok3 := res[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return throttle.Count{}, unavailable(fmt.Errorf("add script returned %T %T %T", res[0], res[1], res[2]))
	}
	return throttle.Count{N: n, Left: time.Duration(left) * time.Millisecond, Window: win}, nil
}

// Undo implements [throttle.Counter.Undo].
func (r *Counter) Undo(ctx context.Context, key, windowID string) error {
	if err := undoScript.Run(ctx, r.rdb, []string{r.prefix + key}, windowID).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Reset implements [throttle.Counter.Reset].
func (r *Counter) Reset(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, r.prefix+key).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

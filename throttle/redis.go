package throttle

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
)

// Redis is a Counter in Redis, shared by every instance. A key is a hash
// prefix+"login:"+key holding the count (n) and a random id of its window
// (w), and expires with its window. One script call per operation.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedis returns a Counter on rdb.
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "tether:"
	}
	return &Redis{rdb: rdb, prefix: prefix + "login:"}
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
	return fmt.Errorf("throttle: %w: %w", tether.ErrStoreUnavailable, err)
}

// Add implements Counter.
func (r *Redis) Add(ctx context.Context, key string, d time.Duration) (Count, error) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	res, err := addScript.Run(ctx, r.rdb, []string{r.prefix + key}, d.Milliseconds(), base64.RawURLEncoding.EncodeToString(id[:])).Slice()
	if err != nil {
		return Count{}, unavailable(err)
	}
	if len(res) != 3 {
		return Count{}, unavailable(fmt.Errorf("add script returned %d values, want 3", len(res)))
	}
	n, ok1 := res[0].(int64)
	left, ok2 := res[1].(int64)
	win, ok3 := res[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return Count{}, unavailable(fmt.Errorf("add script returned %T %T %T", res[0], res[1], res[2]))
	}
	return Count{N: n, Left: time.Duration(left) * time.Millisecond, Window: win}, nil
}

// Undo implements Counter.
func (r *Redis) Undo(ctx context.Context, key, windowID string) error {
	if err := undoScript.Run(ctx, r.rdb, []string{r.prefix + key}, windowID).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Reset implements Counter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, r.prefix+key).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

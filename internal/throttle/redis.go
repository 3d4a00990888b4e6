package throttle

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
)

// Redis is a Counter in Redis, shared by every instance. Keys are
// prefix+"throttle:"+key; each expires with its window.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedis returns a Counter on rdb.
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "tether:"
	}
	return &Redis{rdb: rdb, prefix: prefix + "throttle:"}
}

var addScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if n == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}
`)

// undoScript decrements only a live key, so it never creates one without a
// TTL, and deletes it at zero.
var undoScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`)

func unavailable(err error) error {
	return fmt.Errorf("throttle: %w: %w", tether.ErrStoreUnavailable, err)
}

// Add implements Counter.
func (r *Redis) Add(ctx context.Context, key string, d time.Duration) (int64, time.Duration, error) {
	res, err := addScript.Run(ctx, r.rdb, []string{r.prefix + key}, d.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, unavailable(err)
	}
	if len(res) != 2 {
		return 0, 0, unavailable(fmt.Errorf("add script returned %d values, want 2", len(res)))
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

// Undo implements Counter.
func (r *Redis) Undo(ctx context.Context, key string) error {
	if err := undoScript.Run(ctx, r.rdb, []string{r.prefix + key}).Err(); err != nil {
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

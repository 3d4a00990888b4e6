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
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

var countScript = redis.NewScript(`
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
`)

// Count implements Counter.
func (r *Redis) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	res, err := countScript.Run(ctx, r.rdb, []string{r.prefix + key}).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("throttle: %w: %w", tether.ErrStoreUnavailable, err)
	}
	if len(res) != 2 || res[1] < 0 {
		return 0, 0, nil
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

// Add implements Counter.
func (r *Redis) Add(ctx context.Context, key string, d time.Duration) (int64, error) {
	n, err := addScript.Run(ctx, r.rdb, []string{r.prefix + key}, d.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("throttle: %w: %w", tether.ErrStoreUnavailable, err)
	}
	return n, nil
}

// Reset implements Counter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("throttle: %w: %w", tether.ErrStoreUnavailable, err)
	}
	return nil
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// goRedis is the backend on a go-redis client. It has no client-side cache:
// every read is a command.
type goRedis struct{ c redis.UniversalClient }

// norm maps go-redis's errors onto the backend's (see backend).
func (goRedis) norm(err error) error {
	var re redis.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return errNil
	case errors.As(err, &re):
		return replyError(re.Error())
	}
	return err
}

func (b goRedis) eval(ctx context.Context, sc *script, key string, args []string) (string, error) {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	v, err := sc.gr.Run(ctx, b.c, []string{key}, a...).Text()
	return v, b.norm(err)
}

func (b goRedis) setNX(ctx context.Context, key, val string, pxat int64) (bool, error) {
	err := b.norm(b.c.Do(ctx, "SET", key, val, "NX", "PXAT", pxat).Err())
	if err == errNil {
		return false, nil
	}
	return err == nil, err
}

func (b goRedis) unlink(ctx context.Context, keys []string) ([]int64, error) {
	if len(keys) == 1 {
		n, err := b.c.Unlink(ctx, keys[0]).Result()
		return []int64{n}, b.norm(err)
	}
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Unlink(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, b.norm(err)
	}
	out := make([]int64, len(keys))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

func (b goRedis) get1(ctx context.Context, key string) (string, error) {
	v, err := b.c.Get(ctx, key).Result()
	return v, b.norm(err)
}

func (b goRedis) get(ctx context.Context, keys []string) ([]string, []error, error) {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err := b.norm(err); err != nil && err != errNil && !isWrongType(err) {
		return nil, nil, err
	}
	vals, errs := make([]string, len(keys)), make([]error, len(keys))
	for i, c := range cmds {
		vals[i], errs[i] = c.Val(), b.norm(c.Err())
	}
	return vals, errs, nil
}

func (b goRedis) zrangeAbove(ctx context.Context, key string, min int64) ([]string, error) {
	m, err := b.c.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(min, 10), Max: "+inf"}).Result()
	return m, b.norm(err)
}

func (b goRedis) zrangeAll(ctx context.Context, key string) ([]string, error) {
	m, err := b.c.ZRange(ctx, key, 0, -1).Result()
	return m, b.norm(err)
}

func (b goRedis) zrem(ctx context.Context, key string, members []string) error {
	a := make([]any, len(members))
	for i, m := range members {
		a[i] = m
	}
	return b.norm(b.c.ZRem(ctx, key, a...).Err())
}

func (b goRedis) ping(ctx context.Context) error { return b.norm(b.c.Ping(ctx).Err()) }

func (b goRedis) preload(ctx context.Context, scripts []*script) error {
	for _, sc := range scripts {
		if err := sc.gr.Load(ctx, b.c).Err(); err != nil {
			return b.norm(err)
		}
	}
	return nil
}

func (b goRedis) scan(ctx context.Context, match string, count int64, each func([]string) error) error {
	walk := func(ctx context.Context, c *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, count).Result()
			if err != nil {
				return b.norm(err)
			}
			if len(keys) > 0 {
				if err := each(keys); err != nil {
					return err
				}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	switch c := b.c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, walk)
	case *redis.Ring:
		return c.ForEachShard(ctx, walk)
	case *redis.Client:
		return walk(ctx, c)
	}
	return fmt.Errorf("a %T cannot be walked node by node", b.c)
}

func (goRedis) cachedGet(context.Context, string, time.Duration) (string, bool, int64, error) {
	return "", false, 0, errNoCache
}

package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// ruei is the backend on a rueidis client: auto-pipelined commands, and
// reads served from its server-assisted client-side cache (RESP3 CLIENT
// TRACKING) through DoCache.
type ruei struct {
	c rueidis.Client
	w *connWatch // the client's connections (OpenRueidis), or nil
}

// norm maps rueidis's errors onto the backend's (see backend).
func (ruei) norm(err error) error {
	switch {
	case err == nil:
		return nil
	case rueidis.IsRedisNil(err):
		return errNil
	}
	if re, ok := rueidis.IsRedisErr(err); ok {
		return replyError(re.Error())
	}
	return err
}

func (b ruei) eval(ctx context.Context, sc *script, key string, args []string) (string, error) {
	v, err := sc.rd.Exec(ctx, b.c, []string{key}, args).ToString()
	return v, b.norm(err)
}

func (b ruei) setNX(ctx context.Context, key, val string, pxat int64) (bool, error) {
	err := b.norm(b.c.Do(ctx, b.c.B().Set().Key(key).Value(val).Nx().Pxat(time.UnixMilli(pxat)).Build()).Error())
	if err == errNil {
		return false, nil
	}
	return err == nil, err
}

func (b ruei) unlink(ctx context.Context, keys []string) ([]int64, error) {
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = b.c.B().Unlink().Key(k).Build()
	}
	out := make([]int64, len(keys))
	for i, r := range b.c.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return nil, b.norm(err)
		}
		out[i] = n
	}
	return out, nil
}

func (b ruei) get1(ctx context.Context, key string) (string, error) {
	v, err := b.c.Do(ctx, b.c.B().Get().Key(key).Build()).ToString()
	return v, b.norm(err)
}

func (b ruei) get(ctx context.Context, keys []string) ([]string, []error, error) {
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = b.c.B().Get().Key(k).Build()
	}
	vals, errs := make([]string, len(keys)), make([]error, len(keys))
	for i, r := range b.c.DoMulti(ctx, cmds...) {
		v, err := r.ToString()
		err = b.norm(err)
		if err != nil && err != errNil && !isWrongType(err) {
			return nil, nil, err
		}
		vals[i], errs[i] = v, err
	}
	return vals, errs, nil
}

func (b ruei) zrangeAbove(ctx context.Context, key string, min int64) ([]string, error) {
	m, err := b.c.Do(ctx, b.c.B().Zrange().Key(key).Min("("+strconv.FormatInt(min, 10)).Max("+inf").Byscore().Build()).AsStrSlice()
	return m, b.norm(err)
}

func (b ruei) zrangeAll(ctx context.Context, key string) ([]string, error) {
	m, err := b.c.Do(ctx, b.c.B().Zrange().Key(key).Min("0").Max("-1").Build()).AsStrSlice()
	return m, b.norm(err)
}

func (b ruei) zrem(ctx context.Context, key string, members []string) error {
	return b.norm(b.c.Do(ctx, b.c.B().Zrem().Key(key).Member(members...).Build()).Error())
}

func (b ruei) ping(ctx context.Context) error {
	return b.norm(b.c.Do(ctx, b.c.B().Ping().Build()).Error())
}

func (b ruei) preload(ctx context.Context, scripts []*script) error {
	for _, n := range b.c.Nodes() {
		for _, sc := range scripts {
			if err := n.Do(ctx, n.B().ScriptLoad().Script(sc.src).Build()).Error(); err != nil {
				return b.norm(err)
			}
		}
	}
	return nil
}

// scan walks every node rueidis knows (on a Cluster, replicas too: their
// keys are their masters', so a key may be seen twice, and its second
// UNLINK removes nothing).
func (b ruei) scan(ctx context.Context, match string, count int64, each func([]string) error) error {
	for _, n := range b.c.Nodes() {
		var cursor uint64
		for {
			e, err := n.Do(ctx, n.B().Scan().Cursor(cursor).Match(match).Count(count).Build()).AsScanEntry()
			if err != nil {
				return b.norm(err)
			}
			if len(e.Elements) > 0 {
				if err := each(e.Elements); err != nil {
					return err
				}
			}
			if e.Cursor == 0 {
				break
			}
			cursor = e.Cursor
		}
	}
	return nil
}

func (b ruei) cachedGet(ctx context.Context, key string, ttl time.Duration) (string, bool, int64, error) {
	r := b.c.DoCache(ctx, b.c.B().Get().Key(key).Cache(), ttl)
	v, err := r.ToString()
	hit, pxat := r.IsCacheHit(), r.CachePXAT()
	// The copy's client-side expiry is its fetch's start plus ttl (in ms,
	// rounded down, so this start is never late); unknown: untrusted.
	if hit && b.w != nil && (pxat == 0 || !b.w.trust(pxat-ttl.Milliseconds())) {
		// A connection was lost, its cache maybe not yet dropped (connwatch.go).
		return "", false, 0, errConnLost
	}
	return v, hit, pxat, b.norm(err)
}

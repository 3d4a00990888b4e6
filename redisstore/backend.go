package redisstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// backend is what the Store needs of a Redis client. Two clients implement
// it, go-redis (goredis.go) and rueidis (rueidis.go), each in a few lines
// per method; everything else (scripts, encoding, the index, purging, error
// mapping, the cache's rules) is written once, in terms of backend.
//
// Errors are normalised: a nil reply is errNil, an error reply from Redis is
// a replyError, anything else (network, timeout, closed client) is passed
// through and means Redis could not answer.
type backend interface {
	// eval runs sc on one key, its result read as a string.
	eval(ctx context.Context, sc *script, key string, args []string) (string, error)
	// setNX is SET key val NX PXAT pxat; false when the key exists.
	setNX(ctx context.Context, key, val string, pxat int64) (bool, error)
	// unlink UNLINKs each key (pipelined, one command per key, so that a
	// Cluster routes each to its slot) and returns how many each removed.
	unlink(ctx context.Context, keys []string) ([]int64, error)
	// get1 GETs one key (errNil when it does not exist).
	get1(ctx context.Context, key string) (string, error)
	// get GETs each key (pipelined); out[i] is the value or the error of
	// keys[i] (errNil, a WRONGTYPE replyError). err is a failure of the whole
	// round trip.
	get(ctx context.Context, keys []string) (vals []string, errs []error, err error)
	// zrangeAbove is ZRANGE key (min +inf BYSCORE.
	zrangeAbove(ctx context.Context, key string, min int64) ([]string, error)
	// zrangeAll is ZRANGE key 0 -1.
	zrangeAll(ctx context.Context, key string) ([]string, error)
	// zrem is ZREM key members….
	zrem(ctx context.Context, key string, members []string) error
	ping(ctx context.Context) error
	// preload loads the scripts into every node that runs them.
	preload(ctx context.Context, scripts []*script) error
	// scan walks the keys matching match on every master, count at a time,
	// and calls each with every batch. each may be called concurrently for
	// different masters.
	scan(ctx context.Context, match string, count int64, each func(keys []string) error) error
	// cachedGet is a GET served from the client-side cache, kept there for
	// at most ttl; hit reports that no command was sent, pxat (Unix ms, 0
	// if unknown) when the cached copy expires. A backend without a cache
	// returns errNoCache.
	cachedGet(ctx context.Context, key string, ttl time.Duration) (val string, hit bool, pxat int64, err error)
}

var (
	errNil     = errors.New("redisstore: nil reply")
	errNoCache = errors.New("redisstore: the client has no client-side cache")
	// errConnLost: a cached copy was found while a connection of the
	// client is known to be lost; it must not be served.
	errConnLost = errors.New("redisstore: a connection was lost; cache not trusted")
)

// replyError is an error reply of Redis (a script's error_reply, WRONGTYPE…),
// as opposed to a failure to get any reply.
type replyError string

func (e replyError) Error() string { return string(e) }

// isScriptError reports whether err is the script's own error reply code
// (Redis 7 prefixes such replies with "ERR ").
func isScriptError(err error, code string) bool {
	var re replyError
	if !errors.As(err, &re) {
		return false
	}
	msg := strings.TrimPrefix(string(re), "ERR ")
	return msg == code || strings.HasPrefix(msg, code+" ")
}

// isWrongType reports a WRONGTYPE reply: the key holds something that is not
// a session of this format.
func isWrongType(err error) bool {
	var re replyError
	return errors.As(err, &re) && strings.HasPrefix(string(re), "WRONGTYPE")
}

// script is one Lua script, ready for either client. Both run it by SHA1
// (EVALSHA) and fall back to EVAL when Redis does not know it.
type script struct {
	src string
	gr  *redis.Script
	rd  *rueidis.Lua
}

func newScript(src string) *script {
	return &script{src: src, gr: redis.NewScript(src), rd: rueidis.NewLuaScript(src)}
}

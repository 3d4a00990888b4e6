package redisstore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// DefaultGrace is how long a session's key outlives its idle deadline, so
// that a late request can still be reported as an idle timeout rather than
// an unknown session. The deadline itself is enforced exactly.
const DefaultGrace = 5 * time.Minute

// Options tune a Store.
type Options struct {
	// Prefix starts every key. Default "tether:".
	Prefix string
	// Grace is how long expired sessions are kept for reporting. Default
	// DefaultGrace; a negative value keeps nothing past the deadline.
	Grace time.Duration
	// CacheTTL applies to a Store on a rueidis client (NewRueidis,
	// OpenRueidis): the longest a session read from the client-side cache
	// is served before Redis is asked again, whatever the invalidations
	// say. It bounds how long a deleted session can be served when
	// invalidations are lost on a connection that is not yet known to be
	// dead (half-open). Default DefaultCacheTTL (1 s); a negative value
	// turns cached reads off (every Load reads Redis; with OpenRueidis, set
	// rueidis.ClientOption.DisableCache too, so that the client does not
	// ask Redis to track keys). Ignored by New (go-redis: no cache).
	CacheTTL time.Duration
	// CacheBytes is, for OpenRueidis, the size of the client-side cache of
	// each connection to each Redis node (rueidis CacheSizeEachConn).
	// Default DefaultCacheBytes (64 MiB); least recently used sessions are
	// evicted beyond it. Ignored elsewhere: NewRueidis uses the client as
	// it was built.
	CacheBytes int
}

// New returns a Store on a go-redis client; it reads every session from
// Redis (no client-side cache). It does not contact Redis; call Ping to
// check the connection and Preload to load the scripts ahead of the first
// request.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: New needs a client")
	}
	return newStore(goRedis{rdb}, opts, false)
}

// NewRueidis returns a Store on a rueidis client (single node, Sentinel or
// Cluster, as the client was built). Unless Options.CacheTTL is negative,
// Loads are served from the client's server-assisted cache under the rules
// of the package doc; a client built with DisableCache, or on a Redis
// without RESP3, sends every read to Redis (still correct). OpenRueidis
// also sets the cache size and counts invalidations. It does not contact
// Redis.
func NewRueidis(c rueidis.Client, opts Options) (*Store, error) {
	if c == nil {
		return nil, errors.New("redisstore: NewRueidis needs a client")
	}
	return newStore(ruei{c: c}, opts, opts.CacheTTL >= 0)
}

// OpenRueidis builds a rueidis client from opt with the cache settings of
// opts (CacheSizeEachConn = Options.CacheBytes, unless opt sets it;
// invalidations counted in CacheStats, then passed on to
// opt.OnInvalidations) and returns a Store on it (see NewRueidis). The
// caller closes the client. It connects to Redis (rueidis.NewClient does).
func OpenRueidis(opt rueidis.ClientOption, opts Options) (*Store, rueidis.Client, error) {
	if opts.CacheBytes < 0 {
		return nil, nil, fmt.Errorf("redisstore: Options.CacheBytes %d is negative", opts.CacheBytes)
	}
	s, err := newStore(nil, opts, opts.CacheTTL >= 0)
	if err != nil {
		return nil, nil, err
	}
	if opt.CacheSizeEachConn == 0 {
		opt.CacheSizeEachConn = opts.CacheBytes
		if opt.CacheSizeEachConn == 0 {
			opt.CacheSizeEachConn = DefaultCacheBytes
		}
	}
	if s.cache != nil {
		next := opt.OnInvalidations
		opt.OnInvalidations = func(keys []rueidis.RedisMessage) {
			s.cache.invalidations.Add(uint64(max(1, len(keys))))
			if next != nil {
				next(keys)
			}
		}
	}
	w := newConnWatch()
	opt.DialCtxFn = w.dialer(opt.DialCtxFn)
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: rueidis client: %w", err)
	}
	s.be = ruei{c: c, w: w}
	return s, c, nil
}

func newStore(be backend, opts Options, cached bool) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = "tether:"
	}
	if strings.ContainsAny(opts.Prefix, "{} \r\n") {
		return nil, fmt.Errorf("redisstore: Options.Prefix %q must not contain braces or whitespace", opts.Prefix)
	}
	switch {
	case opts.Grace == 0:
		opts.Grace = DefaultGrace
	case opts.Grace < 0:
		opts.Grace = 0
	}
	s := &Store{be: be, prefix: opts.Prefix, grace: opts.Grace.Milliseconds(), seen: newDeadlines()}
	if cached {
		if opts.CacheTTL == 0 {
			opts.CacheTTL = DefaultCacheTTL
		}
		s.cache = newReadCache(opts.CacheTTL)
	}
	return s, nil
}

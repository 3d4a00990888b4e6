package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/redisstore"
)

// Redis client timeouts: a stalled Redis must turn into a 503 well within a
// request, not hang it.
const (
	redisDialTimeout = 2 * time.Second
	redisIOTimeout   = 1500 * time.Millisecond
	redisStartupWait = 5 * time.Second
)

// redisPoolPerCPU is the default connection pool size per CPU. Every
// request with a session makes one Redis call, so the pool should cover the
// requests in flight; go-redis's own default (10 per CPU) made requests
// queue for a connection under load: with 50 concurrent clients on 2 CPUs,
// 64 connections measured 5-10 % more requests per second than 20 (three
// pairs), for about 3 µs more Redis CPU and 7 µs less server CPU per request.
// Connections open only as needed.
const redisPoolPerCPU = 32

// redisDefaults fills in what REDIS_URL left unset.
func redisDefaults(opts *redis.UniversalOptions) {
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisIOTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 1
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = redisPoolPerCPU * runtime.GOMAXPROCS(0)
	}
	if opts.Protocol == 0 {
		// RESP2: the store needs no push notifications, and go-redis checks
		// for them on every RESP3 command (measured: about 5% of the CPU of
		// GET /profile). A protocol= query parameter in REDIS_URL wins.
		opts.Protocol = 2
	}
}

// redisConns is what openRedis opened.
type redisConns struct {
	store *redisstore.Store     // the session store
	rdb   redis.UniversalClient // go-redis: the login throttling counters
	ping  func(context.Context) error
	close func() error
}

// openRedis connects to REDIS_URL and checks that Redis answers. It returns
// the session store (nil unless sessions is set; its scripts loaded), a
// go-redis client (the login throttling counters use it), a ping of every
// client (/readyz) and a function that closes them.
//
// With sessions set (SESSION_STORE=redis) the session store is on a second
// client, rueidis (redisstore.OpenRueidis), built from the same REDIS_URL:
// one node, TLS, ACL user, Sentinel and Cluster alike. With cache set
// (REDIS_CLIENT_CACHE=on) it serves reads from its client-side cache;
// without, every read goes to Redis, still on rueidis, whose automatic
// pipelining sends the commands of concurrent requests in one write
// (against go-redis: 1.2-1.3x the requests per second, docs/benchmarks.md).
// Errors name the address, never the password; go-redis's own messages go
// to log (see redisLog).
func openRedis(ctx context.Context, cfg *config.Config, caFile string, sessions, cache bool, log *slog.Logger) (*redisConns, error) {
	opts, err := redisstore.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %s", stripPrefixes(err.Error()))
	}
	redis.SetLogger(newRedisLog(log, opts.Password))
	if ca := caFile; ca != "" && opts.TLSConfig != nil {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("REDIS_CA_CERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("REDIS_CA_CERT %s holds no PEM certificate", ca)
		}
		opts.TLSConfig.RootCAs = pool
	}
	redisDefaults(opts)
	unreachable := func(err error) error {
		return fmt.Errorf("cannot reach Redis at %s (REDIS_URL): %s; check that Redis is running there, "+
			"and REDIS_URL's scheme (redis://, or rediss:// for TLS), user and password",
			strings.Join(opts.Addrs, ", "), redactErr(errors.New(cause(err)), cfg.RedisURL))
	}
	rdb := redis.NewUniversalClient(opts)
	pingRDB := func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	pctx, cancel := context.WithTimeout(ctx, redisStartupWait)
	defer cancel()
	if err := pingRDB(pctx); err != nil {
		rdb.Close()
		return nil, unreachable(err)
	}
	if !sessions { // the throttling counters alone
		return &redisConns{rdb: rdb, ping: pingRDB, close: rdb.Close}, nil
	}
	ropt, sopt := rueidisOptions(opts), redisstore.Options{}
	if !cache {
		ropt.DisableCache, sopt.CacheTTL = true, -1 // no CLIENT TRACKING at all
	}
	store, rc, err := redisstore.OpenRueidis(ropt, sopt)
	if err == nil {
		if err = store.Ping(pctx); err == nil {
			err = store.Preload(pctx)
		}
		if err != nil {
			rc.Close()
		}
	}
	if err != nil {
		rdb.Close()
		return nil, unreachable(err)
	}
	return &redisConns{store: store, rdb: rdb,
		ping: func(ctx context.Context) error {
			// Both clients: sessions and the throttling counters.
			return errors.Join(store.Ping(ctx), pingRDB(ctx))
		},
		close: func() error { rc.Close(); return rdb.Close() },
	}, nil
}

// rueidisOptions turns the go-redis options that REDIS_URL and
// redisDefaults gave into rueidis's: the same addresses, credentials, TLS,
// database, dial timeout, and the write timeout as ConnWriteTimeout (rueidis
// also pings an idle connection and drops it, with its cache, when no
// answer comes within it). Sentinel (MasterName) and Cluster follow.
func rueidisOptions(o *redis.UniversalOptions) rueidis.ClientOption {
	opt := rueidis.ClientOption{
		InitAddress: o.Addrs,
		Username:    o.Username,
		Password:    o.Password,
		SelectDB:    o.DB,
		ClientName:  o.ClientName,
		TLSConfig:   o.TLSConfig,
		Dialer:      net.Dialer{Timeout: o.DialTimeout},
		// Single node unless the URL says Cluster or Sentinel (rueidis would
		// otherwise probe a lone address for Cluster mode).
		ForceSingleClient: !o.IsClusterMode && o.MasterName == "",
		ConnWriteTimeout:  o.WriteTimeout,
	}
	if o.MasterName != "" {
		opt.Sentinel = rueidis.SentinelOption{
			MasterSet: o.MasterName, Username: o.SentinelUsername, Password: o.SentinelPassword,
			TLSConfig: o.TLSConfig, Dialer: opt.Dialer,
		}
	}
	if len(o.Addrs) == 1 && strings.HasPrefix(o.Addrs[0], "/") { // unix://
		opt.DialCtxFn = func(ctx context.Context, addr string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
			return d.DialContext(ctx, "unix", addr)
		}
	}
	return opt
}

// redactErr returns err's text without any password from the URL.
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if i := strings.Index(rawURL, "://"); i >= 0 {
		if at := strings.LastIndex(rawURL, "@"); at > i {
			if _, pw, ok := strings.Cut(rawURL[i+3:at], ":"); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}

// redisAddrs lists the addresses a client was configured with.
func redisAddrs(rdb redis.UniversalClient) []string {
	switch c := rdb.(type) {
	case *redis.Client:
		return []string{c.Options().Addr}
	case *redis.ClusterClient:
		return c.Options().Addrs
	}
	return []string{"(sentinel)"}
}

// redisLogEvery is how often one kind of go-redis message is logged: during
// an outage the client reports every failed dial, which would otherwise
// flood the log while /readyz and the 503s already say what is wrong.
const redisLogEvery = 10 * time.Second

// redisLog routes go-redis's own messages (pool and dial failures, which it
// otherwise prints to stderr in its own format) into the server's slog
// logger at Warn level, one line per kind of message every redisLogEvery
// with a count of those left out, and with the Redis password removed should
// a message ever contain it. It is safe for concurrent use.
type redisLog struct {
	log    *slog.Logger
	secret string
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]*redisLogKind
}

type redisLogKind struct {
	last       time.Time
	suppressed int
}

func newRedisLog(log *slog.Logger, password string) *redisLog {
	return &redisLog{log: log, secret: password, now: time.Now, seen: map[string]*redisLogKind{}}
}

// Printf implements go-redis's internal.Logging.
func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	k, ok := l.seen[format]
	if !ok {
		if len(l.seen) >= 256 { // formats are constants of go-redis; bound it anyway
			clear(l.seen)
		}
		k = &redisLogKind{}
		l.seen[format] = k
	}
	if ok && now.Sub(k.last) < redisLogEvery {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.suppressed = now, 0
	l.mu.Unlock()

	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	if l.secret != "" {
		msg = strings.ReplaceAll(msg, l.secret, "[redacted]")
	}
	attrs := []any{"detail", msg}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	l.log.WarnContext(context.WithoutCancel(ctx), "redis client", attrs...)
}

// cacheMode describes REDIS_CLIENT_CACHE as the store runs it, for doctor
// (openRedis leaves Options.CacheTTL at its default).
func cacheMode(s *redisstore.Store) string {
	if s.CacheEnabled() {
		return fmt.Sprintf("client-side cache on (REDIS_CLIENT_CACHE=on: session reads served locally, invalidated by Redis, each copy trusted for at most %v)", redisstore.DefaultCacheTTL)
	}
	return "client-side cache off (REDIS_CLIENT_CACHE=off: every session read goes to Redis)"
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

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

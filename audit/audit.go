// Package audit writes security events as JSON lines through log/slog.
//
// Every line has the same shape, so a log pipeline can alert on it:
//
//	{"time":"2026-11-24T10:00:00.000Z","level":"INFO","msg":"security event",
//	 "event":"login_success","userId":"user-1001","ip":"127.0.0.1",
//	 "userAgent":"curl/8.5.0","session":"3f9a0c1d22b7e4a8"}
//
// session is the session's public ID ([tether.Manager.PublicID]): it ties
// the events of one session together and cannot be turned back into a cookie.
// Callers must never pass a token, cookie value, password or secret; the
// Logger cannot tell one from a user name, so the rule is enforced where
// events are made (package tether puts only public IDs in events).
//
// Plug a Logger into the middleware with [Logger.OnEvent]; the reference
// server and its admin CLI log every event this way. The package imports
// only the standard library and the root package tether (itself standard
// library only).
//
// Failures and defensive actions (names ending in _failure, _failed,
// _rejected, _mismatch, rate_limited, dbsc_required, timeouts…) are logged
// at WARN, the rest at INFO.
//
// A Logger is safe for concurrent use.
package audit

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tetherhq/tether"
)

// Event is tether's security event: the same type as [tether.Event], so
// an event goes from the middleware to the log with no copy, and the
// Logger's OnEvent is a [tether.Config.OnEvent].
type Event = tether.Event

// Logger writes events.
type Logger struct {
	l *slog.Logger
}

// New returns a Logger that writes JSON lines to w.
func New(w io.Writer) *Logger {
	return NewWithHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// NewWithHandler returns a Logger that writes through h.
func NewWithHandler(h slog.Handler) *Logger {
	return &Logger{l: slog.New(h)}
}

// Log writes e. A zero Time means now. Its level is WARN for failures and
// defensive actions, INFO for the rest.
func (l *Logger) Log(ctx context.Context, e Event) {
	level := levelOf(e.Type)
	if !l.l.Enabled(ctx, level) {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	attrs := make([]slog.Attr, 0, 6+len(e.Attrs))
	attrs = append(attrs,
		slog.String("event", e.Type),
		slog.String("userId", e.UserID),
		slog.String("ip", e.IP),
		slog.String("userAgent", e.UserAgent),
		slog.String("session", e.Session),
	)
	attrs = append(attrs, e.Attrs...)
	r := slog.NewRecord(e.Time, level, "security event", 0)
	r.AddAttrs(attrs...)
	_ = l.l.Handler().Handle(ctx, r)
}

// OnEvent writes e; it is a [tether.Config.OnEvent]:
//
//	log := audit.New(os.Stdout)
//	m, err := tether.New(tether.Config{Store: store, Secrets: secrets, OnEvent: log.OnEvent})
//
// tether calls it on the request's goroutine, which it does not block for
// longer than the write.
func (l *Logger) OnEvent(e Event) { l.Log(context.Background(), e) }

// levelOf returns WARN for failures and defensive actions, INFO otherwise.
// Names that follow the pattern (…_failure, …_rejected, …_mismatch,
// …_timeout) are WARN even if tether adds them later.
func levelOf(name string) slog.Level {
	switch {
	case strings.HasSuffix(name, "_failure"), strings.HasSuffix(name, "_rejected"),
		strings.HasSuffix(name, "_mismatch"), strings.HasSuffix(name, "_timeout"),
		strings.HasSuffix(name, "_failed"), name == tether.EventDBSCRequired,
		name == tether.EventRateLimited, name == tether.EventSessionRevoked, name == tether.EventUserDisabled:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

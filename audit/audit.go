// Package audit writes security events as JSON lines through log/slog.
//
// Every line has the same shape, so a log pipeline can alert on it:
//
//	{"time":"2026-11-24T10:00:00.000Z","level":"INFO","msg":"security event",
//	 "event":"login_success","userId":"user-1001","ip":"127.0.0.1",
//	 "userAgent":"curl/8.5.0","session":"3f9a0c1d22b7e4a8"}
//
// session is a salted handle of the session ([tether.Manager.Handle]): it ties
// the events of one session together and cannot be turned back into a cookie.
// Callers must never pass a token, cookie value, password or secret; the
// Logger cannot tell one from a user name, so the rule is enforced where
// events are made (package tether puts only handles in events).
//
// Failures and defensive actions (names ending in _failure, _rejected,
// _mismatch, rate_limited, timeouts…) are logged at WARN, the rest at INFO.
//
// A Logger is safe for concurrent use.
package audit

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Event is one security event.
type Event struct {
	Time      time.Time
	Name      string
	UserID    string
	IP        string
	UserAgent string
	Session   string
	Attrs     []slog.Attr
}

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

// Log writes e. A zero Time means now.
func (l *Logger) Log(ctx context.Context, e Event) {
	level := levelOf(e.Name)
	if !l.l.Enabled(ctx, level) {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	attrs := make([]slog.Attr, 0, 6+len(e.Attrs))
	attrs = append(attrs,
		slog.String("event", e.Name),
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

// levelOf returns WARN for failures and defensive actions, INFO otherwise.
func levelOf(name string) slog.Level {
	switch {
	case strings.HasSuffix(name, "_failure"), strings.HasSuffix(name, "_rejected"),
		strings.HasSuffix(name, "_mismatch"), strings.HasSuffix(name, "_timeout"),
		name == "rate_limited", name == "session_revoked", name == "user_disabled":
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

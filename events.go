package tether

import (
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Security event types. The Manager emits the session ones itself; an
// application emits the others (a failed login, say) with Manager.Emit.
const (
	EventSessionCreated     = "session_created"
	EventSessionRegenerated = "session_regenerated"
	EventSessionRejected    = "session_rejected"
	EventSessionDestroyed   = "session_destroyed"
	EventLoginSuccess       = "login_success"
	EventLoginFailure       = "login_failure"
	EventLogout             = "logout"
	EventIdleTimeout        = "idle_timeout"
	EventAbsoluteTimeout    = "absolute_timeout"
	EventSecretRotated      = "session_resigned"
)

// maxUserAgent bounds the user agent copied into an event, so a client cannot
// make log lines arbitrarily long.
const maxUserAgent = 256

// Event is a security event. It never holds a token, a cookie value, a store
// key or a secret: Session is a salted handle (see Manager.Handle) that lets
// events of one session be correlated and nothing more.
type Event struct {
	Time      time.Time
	Type      string
	UserID    string
	IP        string
	UserAgent string
	// Session is the salted session handle, "" when there is none.
	Session string
	// Attrs are extra fields, such as the reason of a rejection.
	Attrs []slog.Attr
}

// Emit sends an application event (for example EventLoginFailure) to
// Config.OnEvent, filled in with the request's client IP, user agent and, when
// the request has a session, its user and handle.
func (m *Manager) Emit(r *http.Request, typ string, attrs ...slog.Attr) {
	var s *Session
	if r != nil {
		s, _ = r.Context().Value(ctxKey{}).(*Session)
	}
	m.emit(r, s, typ, attrs...)
}

func (m *Manager) emit(r *http.Request, s *Session, typ string, attrs ...slog.Attr) {
	if m.cfg.OnEvent == nil {
		return
	}
	e := Event{Time: m.cfg.Now(), Type: typ, Attrs: attrs}
	if r != nil {
		e.IP = m.cfg.ClientIP(r)
		ua := r.UserAgent()
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
		e.UserAgent = ua
	}
	if s != nil {
		if s.rec != nil {
			e.UserID = s.rec.UserID
		}
		if s.key != "" {
			e.Session = m.handle(s.key)
		}
	}
	m.cfg.OnEvent(e)
}

// RemoteIP is the default Config.ClientIP: the host part of r.RemoteAddr.
// It ignores X-Forwarded-For, which any client can set; behind a proxy,
// supply a ClientIP that trusts only your proxies.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package tether

import (
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Security event types: every event name tether and its reference server
// emit is one of these constants, and no other package spells one out. The
// Manager emits the session ones itself; the others are emitted by the
// application through [Manager.Emit] (the reference server emits them as
// named below). Log pipelines can alert on them; package audit logs the
// failures and defensive actions at WARN.
const (
	// EventSessionCreated: a new session was stored (its first change).
	EventSessionCreated = "session_created"
	// EventSessionRegenerated: the session got a new token ([Session.Login],
	// [Session.Regenerate], [Session.Reauthenticate], [Session.ChangeRole]);
	// the attribute "previous" holds the old token's public ID.
	EventSessionRegenerated = "session_regenerated"
	// EventSessionRejected: a cookie was refused; the attribute "reason" is
	// bad_signature, unknown_session, duplicate_cookie or cookie_too_large.
	EventSessionRejected = "session_rejected"
	// EventSessionDestroyed: [Session.Destroy] deleted the session.
	EventSessionDestroyed = "session_destroyed"
	// EventSessionResigned: a cookie signed by an older entry of
	// [Config.Secrets] was re-signed with the current one. When these stop
	// for longer than the absolute timeout, the old secret can be removed.
	EventSessionResigned = "session_resigned"
	// EventSessionRevoked: sessions were ended from outside their own
	// requests (sign-out of other devices, an admin, a session cap, a
	// disabled account); attributes "count" and "reason".
	EventSessionRevoked = "session_revoked"
	// EventLoginSuccess: [Session.Login] was saved.
	EventLoginSuccess = "login_success"
	// EventLoginFailure: a login attempt with wrong credentials.
	EventLoginFailure = "login_failure"
	// EventLogout: [Session.Logout] deleted the session.
	EventLogout = "logout"
	// EventIdleTimeout and [EventAbsoluteTimeout]: a request presented a
	// session whose idle or absolute deadline had passed; it was deleted.
	EventIdleTimeout     = "idle_timeout"
	EventAbsoluteTimeout = "absolute_timeout"
	// EventCSRFFailure: package csrf refused an unsafe request; attribute
	// "reason".
	EventCSRFFailure = "csrf_failure"
	// EventRateLimited: a throttle refused a request; attribute "limit"
	// names which one.
	EventRateLimited = "rate_limited"
	// EventReauthSuccess and [EventReauthFailure]: a password re-entered for
	// a sensitive action was right or wrong.
	EventReauthSuccess = "reauth_success"
	EventReauthFailure = "reauth_failure"
	// EventPasswordChanged: a user's password was changed (by its owner or
	// an administrator).
	EventPasswordChanged = "password_changed"
	// EventRoleChanged: a user's role changed; attributes "from" and "to".
	EventRoleChanged = "role_changed"
	// EventUserDisabled and [EventUserEnabled]: an administrator disabled or
	// re-enabled an account.
	EventUserDisabled = "user_disabled"
	EventUserEnabled  = "user_enabled"
	// EventBindingMismatch: an authenticated request came from another
	// network or user agent than the login; attribute "changed".
	EventBindingMismatch = "binding_mismatch"
	// EventTokenReuse: a request presented a session cookie whose renewal
	// secret was replaced longer than [Config.RenewGrace] ago, or one the
	// session never had: two parties hold the cookie, so the session was
	// ended for both (see [Config.RenewInterval]).
	EventTokenReuse = "token_reuse"
	// EventDBSCRegistered: a browser bound the session to its key (package
	// dbsc); attributes "alg" and "thumbprint" (the public key's RFC 7638
	// thumbprint: public, it names the key).
	EventDBSCRegistered = "dbsc_registered"
	// EventDBSCRefreshed: a browser proved possession of the session's key
	// and got a new device-bound cookie.
	EventDBSCRefreshed = "dbsc_refreshed"
	// EventDBSCRefreshFailed: a registration or refresh was refused;
	// attribute "step" (register or refresh) and "reason", a fixed code
	// (bad_proof, bad_signature, bad_key, bad_alg, bad_type, challenge,
	// unknown_session, already_bound, not_signed_in, …), never the proof.
	EventDBSCRefreshFailed = "dbsc_refresh_failed"
	// EventDBSCRequired: a request presented a device-bound session's
	// cookie without a valid device-bound cookie and was refused;
	// attribute "reason" (missing, expired, invalid, duplicate).
	EventDBSCRequired = "dbsc_required"
)

// maxUserAgent bounds the user agent copied into an event, so a client cannot
// make log lines arbitrarily long.
const maxUserAgent = 256

// Event is a security event, passed to [Config.OnEvent]. It never holds a
// token, a cookie value, a store key or a secret: Session is the session's
// public ID (see [Manager.PublicID]), which correlates the events of one
// session and reveals nothing else. Package audit logs Events as they are
// (audit.Logger.OnEvent plugs straight into [Config.OnEvent]).
type Event struct {
	// Time is when the event happened, from [Config.Now].
	Time time.Time
	// Type is one of the Event* constants, such as [EventLoginSuccess].
	Type string
	// UserID is the session's user, "" for an anonymous session or none.
	UserID string
	// IP is the client address from [Config.ClientIP] ([RemoteIP] by
	// default), "" when the event has no request.
	IP string
	// UserAgent is the request's User-Agent, cut to 256 bytes so a client
	// cannot make log lines arbitrarily long.
	UserAgent string
	// Session is the session's public ID, "" when the event concerns no
	// stored session (a refused cookie, say).
	Session string
	// Attrs are extra fields, such as the reason of a rejection. The
	// emitter must never put a secret in them.
	Attrs []slog.Attr
}

// Emit sends an application event (for example [EventLoginFailure]) to
// [Config.OnEvent], filled in with the request's client IP, user agent and,
// when the request has a session of this Manager that has been used, its
// user and public ID. It is safe to call from any goroutine of the request.
func (m *Manager) Emit(r *http.Request, typ string, attrs ...slog.Attr) {
	var view *Session
	if r != nil {
		if s, ok := m.Lookup(r.Context()); ok {
			// A snapshot taken under the session's lock: other goroutines of
			// the handler may be using the session meanwhile.
			s.mu.Lock()
			view = &Session{key: s.key}
			if s.rec != nil {
				view.rec = &Record{UserID: s.rec.UserID}
			}
			s.mu.Unlock()
		}
	}
	m.emit(r, view, typ, attrs...)
}

// emit builds and sends an event; s, if not nil, must not change meanwhile
// (the caller holds its lock, or it is a snapshot).
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
			e.Session = m.PublicID(s.key)
		}
	}
	m.cfg.OnEvent(e)
}

// RemoteIP is the default [Config.ClientIP]: the host part of r.RemoteAddr.
// It ignores X-Forwarded-For, which any client can set; behind a proxy,
// supply a ClientIP that trusts only your proxies.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

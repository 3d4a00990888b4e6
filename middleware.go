package tether

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// Manager is the session middleware. Create one with New at start-up and wrap
// your handlers with Handler; it is safe for concurrent use.
type Manager struct {
	cfg    Config
	signer *signer
	claims renewClaims // which request of a burst renews a session (renew.go)
}

// New validates cfg and returns a Manager. Misconfiguration (no store, no
// secret, a __Host- cookie without Secure, a development-only store in
// production…) is reported here, every problem at once, so that it fails at
// start-up rather than on a request.
func New(cfg Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: c, signer: newSigner(c.Secrets)}, nil
}

// CookieName returns the name of the session cookie.
func (m *Manager) CookieName() string { return m.cfg.CookieName }

// Store returns the Manager's store: with [Config.EncryptionKeys], the
// encrypting wrapper of the configured one (see [EncryptStore]), so that
// what it returns is what the application wrote.
func (m *Manager) Store() Store { return m.cfg.Store }

// PublicID returns the public ID of the session stored under storeKey: 16
// hex digits of HMAC-SHA256([Config.PublicIDKey], storeKey). Events carry it
// ([Event.Session]) and [SessionInfo.ID] is it, instead of anything that
// could be replayed: it tells the sessions of a user apart and correlates
// the events of one session, and it cannot be turned back into a store key
// or a cookie. Every instance that shares the first secret (or PublicIDKey)
// gives a session the same public ID.
func (m *Manager) PublicID(storeKey string) string {
	h := hmac.New(sha256.New, m.cfg.PublicIDKey)
	h.Write([]byte(storeKey))
	var buf [sha256.Size]byte
	var out [16]byte
	hex.Encode(out[:], h.Sum(buf[:0])[:8])
	return string(out[:])
}

// ctxKey finds the innermost session of a request, whatever its Manager;
// managerKey finds the session of one Manager. One value in the request's
// context answers both (see sessionCtx), so a request costs one context
// node, allocated with its Session.
type (
	ctxKey     struct{}
	managerKey struct{ m *Manager }
)

// sessionCtx is the request's context with its session attached. It is a
// field of the Session, so attaching one allocates nothing more.
type sessionCtx struct {
	context.Context
	s *Session
}

func (c *sessionCtx) Value(key any) any {
	switch k := key.(type) {
	case ctxKey:
		return c.s
	case managerKey:
		if k.m == c.s.m {
			return c.s
		}
	}
	return c.Context.Value(key)
}

// FromContext returns the session of the request whose context is ctx: the
// session of the innermost [Manager.Handler] it passed through. With two
// Managers on one request (a user area and an admin area with their own
// cookies), use [Manager.FromContext] to choose.
//
// It panics with [ErrNoSession] ("wrap the handler with Manager.Handler")
// when the request did not pass through a Manager: a wiring mistake that the
// first request shows, instead of a nil dereference further on. Code that
// may run without a Manager uses [Lookup].
func FromContext(ctx context.Context) *Session {
	if s, ok := ctx.Value(ctxKey{}).(*Session); ok {
		return s
	}
	panic(ErrNoSession)
}

// Lookup is [FromContext] that reports a missing session with false
// instead of a panic.
func Lookup(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok
}

// FromContext returns this Manager's session of the request whose context
// is ctx, whatever other Managers the request passed through. It panics
// with an error matching [ErrNoSession], which names the Manager's cookie,
// when the request did not pass through m's Handler.
func (m *Manager) FromContext(ctx context.Context) *Session {
	if s, ok := m.Lookup(ctx); ok {
		return s
	}
	panic(noSessionError{m.cfg.CookieName})
}

// Lookup is [Manager.FromContext] that reports a missing session with false
// instead of a panic.
func (m *Manager) Lookup(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(managerKey{m}).(*Session)
	return s, ok
}

// Handler returns middleware that attaches a *Session to every request
// (retrieve it with [FromContext], or [Manager.FromContext] when several
// Managers share a request: each has its own context key, so a user area's
// and an admin area's sessions, with different cookie names, live side by
// side).
//
// Cost: a request without a session cookie, or with one that fails signature
// verification, or whose handler never uses its session, costs no store
// call. The first use of the session loads it (one store call, which also
// refreshes the idle deadline); saving changes costs one more. When the first
// use is Incr, the load and the increment are one store call. Changes are
// saved, and Set-Cookie is written, just before the handler's first byte
// (its first Write, WriteHeader, Flush, ReadFrom or Hijack), or when it
// returns if it writes nothing, so a failure to save replaces the response
// with an error instead of a success that did not happen. From then on the
// session no longer changes: methods that would change it return
// [ErrResponseStarted].
//
// Store outages: a session that cannot be loaded reads as empty, reports
// the error through [Session.Err] (and Set and Incr return it), and the
// response is replaced by the error (503) when it starts, whatever the
// handler writes.
//
// Refusals: a duplicate session cookie (400) and an oversized one (431) are
// answered through [Config.ErrorHandler] without calling next.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &exchange{}
		s := &x.s
		s.m = m
		s.ctx = sessionCtx{Context: r.Context(), s: s}
		r = r.WithContext(&s.ctx)
		s.r = r
		if err := s.start(); err != nil {
			m.cfg.ErrorHandler(w, r, err)
			return
		}
		sw := x.w.init(w, s)
		next.ServeHTTP(sw, r)
		sw.commitOnce()
	})
}

// exchange is what a request through Handler allocates: its Session and
// the writer that saves it, in one allocation.
type exchange struct {
	s Session
	w writer
}

// readCookie returns the session cookie's value, "" if there is none.
func (m *Manager) readCookie(r *http.Request) (string, error) {
	cs := r.CookiesNamed(m.cfg.CookieName)
	switch len(cs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", ErrDuplicateCookie
	}
	if len(cs[0].Value) > m.cfg.MaxCookieBytes {
		return "", ErrCookieTooLarge
	}
	return cs[0].Value, nil
}

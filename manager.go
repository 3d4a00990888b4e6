package tether

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// Manager is the session middleware. Create one with New at start-up and wrap
// your handlers with Handler; it is safe for concurrent use.
type Manager struct {
	cfg    Config
	signer *signer
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

// Store returns the Manager's store.
func (m *Manager) Store() Store { return m.cfg.Store }

// Handle returns the salted handle of a store key: 16 hex digits of
// HMAC-SHA256(HandleKey, key). Events carry it instead of anything that could
// be replayed: it correlates the events of one session and reveals nothing.
func (m *Manager) Handle(storeKey string) string {
	h := hmac.New(sha256.New, m.cfg.HandleKey)
	h.Write([]byte(storeKey))
	var buf [sha256.Size]byte
	return hex.EncodeToString(h.Sum(buf[:0])[:8])
}

func (m *Manager) handle(key string) string { return m.Handle(key) }

type ctxKey struct{}

// FromContext returns the request's session, or nil if the request did not
// pass through Manager.Handler.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// Handler returns middleware that attaches a *Session to every request
// (retrieve it with FromContext).
//
// Cost: a request without a session cookie, or with one that fails signature
// verification, or whose handler never uses its session, costs no store
// call. The first use of the session loads it (one store call, which also
// refreshes the idle deadline); saving changes costs one more. When the first
// use is Incr, the load and the increment are one store call. Changes are saved, and Set-Cookie is written, just before
// the handler's first byte (or when it returns, if it writes nothing), so a
// failure to save replaces the response with an error instead of a success
// that did not happen.
//
// Refusals: a duplicate session cookie (400), an oversized one (431) and an
// unreachable store (503) are answered through Config.ErrorHandler without
// calling next.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &Session{m: m}
		ctx := context.WithValue(r.Context(), ctxKey{}, s)
		r = r.WithContext(ctx)
		s.r = r
		if err := s.start(); err != nil {
			m.cfg.ErrorHandler(w, r, err)
			return
		}
		sw := newWriter(w, s)
		next.ServeHTTP(sw, r)
		sw.commitOnce()
	})
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

// start reads and verifies the cookie. It makes no store call: the session
// is loaded when the handler first uses it (see loadLocked).
func (s *Session) start() error {
	m := s.m
	value, err := m.readCookie(s.r)
	if err != nil {
		m.emit(s.r, nil, EventSessionRejected, slog.String("reason", reasonOf(err)))
		return err
	}
	if value == "" {
		return nil
	}
	s.hadCookie = true
	tok, secret, ok := m.signer.verify(value)
	if !ok {
		s.stale = true
		m.emit(s.r, nil, EventSessionRejected, slog.String("reason", "bad_signature"))
		return nil
	}
	s.cand, s.candKey = tok, storeKey(tok)
	if secret == 0 {
		s.candValue = value // already signed by the current secret: reuse it
	}
	return nil
}

// loadLocked loads the session named by the cookie, once, on first use. A
// store failure is kept in loadErr: the session then looks empty to the
// handler, and commit replaces whatever the handler answers with a 503, so
// an outage never reaches the client as a logout. The caller holds s.mu.
func (s *Session) loadLocked() {
	if s.loaded {
		return
	}
	s.loaded = true
	if s.candKey == "" {
		return
	}
	m, key := s.m, s.candKey
	now := m.cfg.Now()
	ctx, cancel := m.cfg.storeCtx(s.r.Context())
	rec, err := m.cfg.Store.Load(ctx, key, now, now.Add(m.cfg.IdleTimeout))
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		s.unknown(key)
		return
	case err != nil:
		s.loadErr = storeErr(err)
		return
	}
	if expired, which := rec.ExpiredAt(now); expired {
		s.stale = true
		typ := EventIdleTimeout
		if which == "absolute" {
			typ = EventAbsoluteTimeout
		}
		m.emit(s.r, &Session{key: key, rec: rec}, typ)
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		err := m.cfg.Store.Delete(ctx, key)
		cancel()
		if err != nil {
			s.loadErr = storeErr(err)
		}
		return
	}
	s.adopt(rec)
}

// adopt makes rec, stored under the cookie's key, the session's record.
func (s *Session) adopt(rec *Record) {
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	s.token, s.key, s.rec, s.exists = s.cand, s.candKey, rec, true
}

// unknown records that the cookie named no live session.
func (s *Session) unknown(key string) {
	s.stale = true
	s.m.emit(s.r, &Session{key: key}, EventSessionRejected, slog.String("reason", "unknown_session"))
}

func reasonOf(err error) string {
	switch err {
	case ErrDuplicateCookie:
		return "duplicate_cookie"
	case ErrCookieTooLarge:
		return "cookie_too_large"
	}
	return "invalid"
}

package tether

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// storeErr wraps a store failure in ErrStoreUnavailable (once).
func storeErr(err error) error {
	if errors.Is(err, ErrStoreUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// commit saves the session's pending state and writes its response headers.
// It runs once, before the handler's first byte or after it returns.
func (s *Session) commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	s.committed = true
	m := s.m
	if s.loadErr != nil {
		return s.loadErr
	}
	switch {
	case s.destroyed:
		return s.commitDestroy()
	case s.ended:
		return ErrSessionEnded
	case s.regen:
		return s.commitRegenerate()
	case !s.exists && s.dirty:
		return s.commitCreate()
	case s.exists && s.dirty:
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		rec, err := m.cfg.Store.Update(ctx, s.key, m.cfg.Now(), &s.patch)
		cancel()
		switch {
		case errors.Is(err, ErrNotFound):
			s.ended = true
			return ErrSessionEnded
		case err != nil:
			return storeErr(err)
		}
		s.rec = rec
	}
	return nil
}

func (s *Session) commitDestroy() error {
	m := s.m
	if s.exists {
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		err := m.cfg.Store.Delete(ctx, s.key)
		cancel()
		if err != nil {
			return storeErr(err)
		}
		typ := EventSessionDestroyed
		if s.logout {
			typ = EventLogout
		}
		m.emit(s.r, s, typ)
	}
	return nil
}

func (s *Session) commitCreate() error {
	m := s.m
	now := m.cfg.Now()
	rec := s.rec
	rec.CreatedAt = now
	rec.AbsoluteDeadline = now.Add(m.cfg.AbsoluteTimeout)
	rec.IdleDeadline = minTime(now.Add(m.cfg.IdleTimeout), rec.AbsoluteDeadline)
	if err := s.create(rec); err != nil {
		return err
	}
	m.emit(s.r, s, EventSessionCreated)
	return nil
}

func (s *Session) commitRegenerate() error {
	m := s.m
	now := m.cfg.Now()
	rec := s.rec
	oldKey, oldExists := s.key, s.exists
	if oldExists {
		// Start from the stored record with this request's changes applied,
		// not from what this request loaded: values other requests stored
		// meanwhile (an admin tool's accountChanged flag, another tab's
		// change) then carry over to the new token. A session that ended
		// meanwhile (a logout elsewhere, a revocation) is not brought back
		// under a new token; only a login goes on, with the values this
		// request holds (a fresh authentication needs no old record). The
		// empty Update reads the record only while it is live; the request's
		// changes are applied to that copy here and never written to the old
		// record, so a rotation that then fails (a login whose Create fails,
		// say) leaves it as it was.
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		fresh, err := m.cfg.Store.Update(ctx, oldKey, now, &Patch{})
		cancel()
		if err == nil {
			if fresh.Values == nil {
				fresh.Values = map[string]json.RawMessage{}
			}
			err = s.patch.Apply(fresh)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			if s.login == nil {
				s.ended = true
				return ErrSessionEnded
			}
			oldExists = false
			rec.AbsoluteDeadline = time.Time{}
		case errors.Is(err, ErrNotInteger):
			return err
		case err != nil:
			return storeErr(err)
		default:
			rec.Values = fresh.Values
		}
	}
	rec.CreatedAt = now
	switch {
	case s.login != nil:
		rec.UserID = s.login.userID
		rec.AuthenticatedAt = now
		rec.AbsoluteDeadline = now.Add(m.cfg.absoluteTimeout(s.login.role))
	case !oldExists:
		rec.AbsoluteDeadline = now.Add(m.cfg.AbsoluteTimeout)
	}
	if s.reauth {
		rec.AuthenticatedAt = now
	}
	// A plain Regenerate keeps the absolute deadline: a new token must not
	// extend the session's life.
	rec.IdleDeadline = minTime(now.Add(m.cfg.IdleTimeout), rec.AbsoluteDeadline)
	if err := s.create(rec); err != nil {
		return err
	}
	if oldExists {
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		defer cancel()
		// fail ends the rotation after the new record exists: the client
		// keeps its old cookie, so the new record is removed (best effort)
		// rather than left to count against the user's sessions.
		fail := func(err error) error {
			_ = m.cfg.Store.Delete(ctx, s.key)
			return storeErr(err)
		}
		if s.login == nil {
			// A revocation of the user's sessions that ran between the
			// first Update and the Create above found the old record only;
			// one that runs from now on finds the new one too (it is in the
			// user's index already). So check the old record once more,
			// and if it was revoked meanwhile, revoke the new one as well.
			_, err := m.cfg.Store.Update(ctx, oldKey, now, &Patch{})
			switch {
			case errors.Is(err, ErrNotFound):
				derr := m.cfg.Store.Delete(ctx, s.key)
				s.ended = true
				if derr != nil {
					return storeErr(derr)
				}
				return ErrSessionEnded
			case err != nil:
				return fail(err)
			}
		}
		if err := m.cfg.Store.Delete(ctx, oldKey); err != nil {
			return fail(err)
		}
	}
	attrs := []slog.Attr{}
	if oldExists {
		attrs = append(attrs, slog.String("previous", m.Handle(oldKey)))
	}
	m.emit(s.r, s, EventSessionRegenerated, attrs...)
	if s.login != nil {
		m.emit(s.r, s, EventLoginSuccess)
	}
	return nil
}

// create stores rec under a new token and makes it the session's.
func (s *Session) create(rec *Record) error {
	tok := newToken()
	key := storeKey(tok)
	ctx, cancel := s.m.cfg.storeCtx(s.r.Context())
	err := s.m.cfg.Store.Create(ctx, key, rec)
	cancel()
	if err != nil {
		return storeErr(err)
	}
	s.token, s.key, s.exists = tok, key, true
	s.patch, s.dirty = Patch{}, false
	return nil
}

// writeHeaders sets the session's cookie and caching headers on h. It runs
// after a successful commit, or after a failed one to expire a cookie that no
// longer names a session.
func (s *Session) writeHeaders(h http.Header, failed error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	if !s.loaded && !s.stale {
		return // the handler never used the session: nothing to say about it
	}
	switch {
	case s.destroyed && failed == nil, s.ended:
		h.Add("Set-Cookie", m.expiredCookie())
		if s.destroyed {
			h.Set("Clear-Site-Data", `"cookies"`)
		}
	case failed != nil:
		// Keep the client's cookie: a store outage is not a logout.
	case s.exists:
		value := s.candValue
		if value == "" || s.key != s.candKey {
			value = m.signer.sign(s.token) // new token, or re-signing with the current secret
		}
		h.Add("Set-Cookie", m.cookie(value, s.rec))
	case s.stale:
		h.Add("Set-Cookie", m.expiredCookie())
	}
	if s.hadCookie || s.exists || s.destroyed {
		h["Cache-Control"] = hvNoStore
		addVaryCookie(h)
	}
}

// cookie returns a Set-Cookie value carrying value, whose Max-Age is what
// is left of rec's stored idle deadline (capped at its absolute deadline),
// to the nearest second: the cookie expires with the session even when the
// store skipped a small move of the deadline, or the handler ran long before
// its response started.
func (m *Manager) cookie(value string, rec *Record) string {
	left := minTime(rec.IdleDeadline, rec.AbsoluteDeadline).Sub(m.cfg.Now())
	secs := int64((left + time.Second/2) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return m.cookieString(value, strconv.FormatInt(secs, 10), "")
}

// expiredCookie returns a Set-Cookie value that removes the session cookie.
func (m *Manager) expiredCookie() string {
	return m.cookieString("", "0", "Thu, 01 Jan 1970 00:00:00 GMT")
}

func (m *Manager) cookieString(value, maxAge, expires string) string {
	c := m.cfg
	b := make([]byte, 0, 160)
	b = append(b, c.CookieName...)
	b = append(b, '=')
	b = append(b, value...)
	b = append(b, "; Path=/"...)
	if c.Domain != "" {
		b = append(b, "; Domain="...)
		b = append(b, c.Domain...)
	}
	if expires != "" {
		b = append(b, "; Expires="...)
		b = append(b, expires...)
	}
	b = append(b, "; Max-Age="...)
	b = append(b, maxAge...)
	b = append(b, "; HttpOnly"...)
	if c.Secure {
		b = append(b, "; Secure"...)
	}
	switch c.SameSite {
	case http.SameSiteStrictMode:
		b = append(b, "; SameSite=Strict"...)
	case http.SameSiteNoneMode:
		b = append(b, "; SameSite=None"...)
	default:
		b = append(b, "; SameSite=Lax"...)
	}
	return string(b)
}

func addVaryCookie(h http.Header) {
	vary := h["Vary"]
	if len(vary) == 0 {
		h["Vary"] = hvCookie
		return
	}
	for _, v := range vary {
		if v == "Cookie" || v == "*" {
			return
		}
	}
	h.Add("Vary", "Cookie")
}

// Header values set on most session responses, shared between them so that
// setting one costs no allocation. net/http only reads them, and Header.Add
// appends to a slice already at capacity, so it copies rather than writes
// into the shared one.
var (
	hvNoStore = []string{"no-store"}
	hvCookie  = []string{"Cookie"}
)

package tether

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// cookie returns a Set-Cookie value carrying value with the lifetime mode
// gives it: for [CookieRolling], a Max-Age of what is left of rec's stored
// idle deadline (capped at its absolute deadline); for [CookiePersistent],
// of what is left of its absolute deadline; for [CookieSession], none. The
// Max-Age is counted from now, to the nearest second, so the cookie expires
// with the session even when the store skipped a small move of the deadline
// or the handler ran long before its response started.
func (m *Manager) cookie(value string, rec *Record, mode CookieMode) string {
	var deadline time.Time
	switch mode {
	case CookieSession:
		return m.cookieString(value, "", "")
	case CookiePersistent:
		deadline = rec.AbsoluteDeadline
	default:
		deadline = minTime(rec.IdleDeadline, rec.AbsoluteDeadline)
	}
	left := deadline.Sub(m.cfg.Now())
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

// cookieString renders a Set-Cookie value; an empty maxAge leaves Max-Age
// out (a browser-session cookie).
func (m *Manager) cookieString(value, maxAge, expires string) string {
	c := m.cfg
	b := make([]byte, 0, 160)
	b = append(b, c.CookieName...)
	b = append(b, '=')
	b = append(b, value...)
	b = append(b, "; Path="...)
	b = append(b, c.Path...)
	if c.Domain != "" {
		b = append(b, "; Domain="...)
		b = append(b, c.Domain...)
	}
	if expires != "" {
		b = append(b, "; Expires="...)
		b = append(b, expires...)
	}
	if maxAge != "" {
		b = append(b, "; Max-Age="...)
		b = append(b, maxAge...)
	}
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
	if c.Partitioned {
		b = append(b, "; Partitioned"...)
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

// writeHeaders sets the session's cookie and caching headers on h. It runs
// after a successful commit, or after a failed one to expire a cookie that no
// longer names a session.
//
// Set-Cookie is sent for a new token (a new session, a login, a rotation),
// for a renewed secret ([Config.RenewInterval]), for a cookie re-signed
// with the current secret, for a change of
// [Session.SetPersistent], and in [CookieRolling] mode when the stored idle
// deadline moved by [RollingResendStep] or more since the browser's cookie
// was sent (see rollingDueLocked). An unchanged token is re-sent only after
// a store write at commit time found its record (the rolling cookie's new
// expiry is such a write), or by a quick request (see confirmLocked): a
// slow response must not put back a token that a login in another request
// replaced meanwhile.
func (s *Session) writeHeaders(h http.Header, failed error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	if !s.loaded && !s.stale {
		return // the handler never used the session: nothing to say about it
	}
	switch {
	case s.destroyed && failed == nil:
		// The session cookie only: no Clear-Site-Data, which would wipe
		// the device cookie and sibling apps' cookies (issue 11 row 1).
		h.Add("Set-Cookie", m.expiredCookie())
	case s.ended:
		// The record was there when this request loaded it and is gone now:
		// a logout, a revocation, or a login in another request that gave
		// the browser a new token. Leave the cookie alone, so that a new one
		// is not wiped out; if the browser still holds this dead token, its
		// next request finds no session and expires it.
	case failed != nil:
		// Keep the client's cookie: a store outage is not a logout.
	case s.exists:
		same := s.key == s.candKey && !s.rn.renewed // the cookie the request came with
		if same && (s.rn.quiet || !s.resendLocked()) {
			break // quiet: that cookie's secret is replaced (renew.go), never re-send it
		}
		value := s.candValue
		if value == "" || !same {
			// A new token or renewal secret, or re-signing with the current secret.
			value = m.signer.sign(s.token, s.rn.secret)
			if s.key == s.candKey && s.candValue == "" {
				m.emit(s.r, s, EventSessionResigned)
			}
		}
		h.Add("Set-Cookie", m.cookie(value, s.rec, s.cookieModeLocked()))
	case s.stale:
		h.Add("Set-Cookie", m.expiredCookie())
	}
	if s.hadCookie || s.exists || s.destroyed {
		h["Cache-Control"] = hvNoStore
		addVaryCookie(h)
	}
}

// resendLocked reports whether the response re-sends the cookie of a token
// that did not change in this request, after checking (at most one store
// call) that the record still exists when the request ran long. The caller
// holds s.mu.
func (s *Session) resendLocked() bool {
	if s.candValue != "" && !s.ck.switched && !s.rollingDueLocked() {
		return false
	}
	return s.confirmLocked()
}

// rollingDueLocked reports whether a [CookieRolling] session's response
// re-sends its unchanged token: when the cookie the browser holds expires
// at least [RollingResendStep] away from the stored idle deadline (capped at
// the absolute one). When that cookie expires is kept in the record (under
// keyCookieExpiry), so that the browser's copy never falls more than a
// step behind however often the session is used; a session stored without
// it (before cookie modes) is due at once. The caller holds s.mu.
func (s *Session) rollingDueLocked() bool {
	if s.cookieModeLocked() != CookieRolling {
		return false
	}
	if s.ck.expiryWritten {
		return true
	}
	if !s.ck.hasExpiry {
		return true
	}
	moved := time.Duration(rollingExpiry(s.rec)-s.ck.expiry) * time.Second
	return moved >= RollingResendStep || moved <= -RollingResendStep
}

// rollingExpiry returns when a [CookieRolling] cookie sent now for rec
// expires, in Unix seconds.
func rollingExpiry(rec *Record) int64 {
	return minTime(rec.IdleDeadline, rec.AbsoluteDeadline).Unix()
}

// setCookieExpiryLocked records, in p for the store, when the rolling
// cookie this response sends expires. The caller holds s.mu.
func (s *Session) setCookieExpiryLocked(p *Patch) {
	s.ck.expiry, s.ck.hasExpiry = rollingExpiry(s.rec), true
	if p.Set == nil {
		p.Set = map[string]json.RawMessage{}
	}
	p.Set[keyCookieExpiry] = strconv.AppendInt(nil, s.ck.expiry, 10)
	s.ck.expiryWritten = true
}

// takeCookieExpiry moves the rolling cookie's stored expiry out of the
// values of rec, a record just read from the store, into s.ck: it is
// tether's bookkeeping, not one of the application's values, so
// [Session.Keys] and the getters do not see it. The caller holds s.mu.
func (s *Session) takeCookieExpiry(rec *Record) {
	raw, ok := rec.Values[keyCookieExpiry]
	if !ok {
		return
	}
	delete(rec.Values, keyCookieExpiry)
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		s.ck.expiry, s.ck.hasExpiry = n, true
	}
}

// cookieState is the per-request state of the cookie decision.
type cookieState struct {
	loadedAt  time.Time // Config.Now just before the record was read
	switched  bool      // SetPersistent changed the session's cookie mode
	confirmed bool      // a store write at commit found the record live
	// expiry is when the rolling cookie the browser holds expires (Unix
	// seconds), as stored with the record, if hasExpiry.
	expiry    int64
	hasExpiry bool
	// expiryWritten: this response's rolling cookie expiry is saved (or
	// about to be, with the new record or the patch): the cookie is re-sent.
	expiryWritten bool
}

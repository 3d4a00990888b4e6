package tether

import (
	"net/http"
	"strconv"
	"time"
)

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
			if s.key == s.candKey {
				m.emit(s.r, s, EventSessionResigned)
			}
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

// cookieState is the per-request state of the cookie decision. It is empty
// for now; cookie modes add to it.
type cookieState struct{}

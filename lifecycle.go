package tether

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

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
	tok, rs, secret, ok := m.signer.verifyInto(&s.cookieBuf, value)
	if !ok {
		s.stale = true
		m.emit(s.r, nil, EventSessionRejected, slog.String("reason", "bad_signature"))
		return nil
	}
	s.cand, s.candKey, s.rn.secret = tok, storeKey(tok), rs
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
	if m.cfg.needsFreshRead(s.r) {
		ctx = WithFreshRead(ctx)
	}
	rec, err := m.cfg.Store.Load(ctx, key, now, m.cfg.guessIdleDeadline(s.cand, now))
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
	if s.adopt(rec, now) {
		s.fitIdleLocked(s.r.Context(), now)
	}
}

// adopt makes rec, stored under the cookie's key and read at now, the
// session's record, if the cookie's renewal secret is one the record
// accepts (renew.go); otherwise the request goes on without a session, and
// adopt reports false.
func (s *Session) adopt(rec *Record, now time.Time) bool {
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	s.takeCookieExpiry(rec)
	if v := s.checkRenewLocked(rec, now); v == secretReused || v == secretOld {
		s.refuseLocked(v, s.candKey, rec)
		return false
	}
	s.token, s.key, s.rec, s.exists = s.cand, s.candKey, rec, true
	s.ck.loadedAt = now
	return true
}

// recheckAfter is how long after its load a request re-checks, before it
// re-sends an unchanged token, that the record still exists (see
// confirmLocked). Handlers that answer within it (nearly all: their load
// and commit are milliseconds apart) pay no store call for the check.
const recheckAfter = time.Second

// confirmLocked reports whether the session's record, under the token the
// request arrived with, is known to be live now, so that the response may
// re-send that token. Meanwhile a login in another request may have
// replaced the token and deleted this record, and re-sending the old token
// would log the browser out. A store write at commit (a change, or the
// rolling cookie's new expiry, which is written here) answers the question
// on the way; otherwise a request whose handler ran longer than
// [recheckAfter] (a long poll, a slow upload) asks the store with an empty
// Update. When the record is gone, or the store cannot tell, the response
// sends no cookie: the browser keeps what it has. The caller holds s.mu.
func (s *Session) confirmLocked() bool {
	if s.ck.confirmed {
		return true
	}
	m := s.m
	now := m.cfg.Now()
	var p Patch
	if s.rollingDueLocked() && !s.ck.expiryWritten {
		s.setCookieExpiryLocked(&p)
	} else if now.Sub(s.ck.loadedAt) < recheckAfter && (s.rn.raw == nil || s.candValue != "") {
		// Quick, and not re-signing a cookie whose renewal secret another
		// request may have replaced since the load: a re-signed replaced
		// secret would sign the browser out after the grace.
		return true
	}
	ctx, cancel := m.cfg.storeCtx(s.r.Context())
	rec, err := m.cfg.Store.Update(ctx, s.key, now, &p)
	cancel()
	if err != nil {
		return false
	}
	if s.noteStoredLocked(rec); s.rn.quiet {
		return false // renewed by another request: the old cookie must not come back
	}
	s.ck.confirmed = true
	s.rec.IdleDeadline, s.rec.AbsoluteDeadline = rec.IdleDeadline, rec.AbsoluteDeadline
	return true
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

// loadIncrLocked loads the session and increments key in one store call: an
// Update that also refreshes the idle deadline, and applies only to a live
// session. done is false when the caller must go on as for a session that
// is loaded already (no session, or a value that is not an integer).
func (s *Session) loadIncrLocked(ctx context.Context, key string, delta int64) (n int64, done bool, err error) {
	m := s.m
	now := m.cfg.Now()
	sctx, cancel := m.cfg.storeCtx(ctx)
	rec, err := m.cfg.Store.Update(sctx, s.candKey, now, &Patch{
		Incr:         map[string]int64{key: delta},
		IdleDeadline: m.cfg.guessIdleDeadline(s.cand, now),
	})
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		s.loaded = true
		s.unknown(s.candKey)
		return 0, false, nil
	case errors.Is(err, ErrNotInteger):
		return 0, false, nil // loadLocked, then the local path reports it
	case err != nil:
		s.loaded = true
		s.loadErr = storeErr(err)
		return 0, true, s.loadErr
	}
	s.loaded = true
	if !s.adopt(rec, now) {
		return 0, s.loadErr != nil, s.loadErr
	}
	s.fitIdleLocked(ctx, now)
	if s.loadErr != nil || s.ended {
		return 0, true, cmp.Or(s.loadErr, ErrSessionEnded)
	}
	if err := json.Unmarshal(rec.Values[key], &n); err != nil {
		return 0, true, ErrNotInteger
	}
	return n, true, nil
}

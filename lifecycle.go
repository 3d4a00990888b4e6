package tether

import (
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
	tok, rs, secret, ok := m.signer.verify(value)
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
	s.adopt(rec, now)
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
	ctx, cancel := m.cfg.storeCtx(ctx)
	rec, err := m.cfg.Store.Update(ctx, s.candKey, now, &Patch{
		Incr:         map[string]int64{key: delta},
		IdleDeadline: now.Add(m.cfg.IdleTimeout),
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
	if err := json.Unmarshal(rec.Values[key], &n); err != nil {
		return 0, true, ErrNotInteger
	}
	return n, true, nil
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
	case s.exists && (s.dirty || s.rn.due):
		now := m.cfg.Now()
		p := &s.patch
		if s.rn.due {
			p = s.renewPatchLocked(now) // the renewal rides on this Update
		} else if s.key == s.candKey && !s.rn.quiet && s.rollingDueLocked() {
			s.setCookieExpiryLocked(&s.patch) // saved with the change, for free
		}
		ctx, cancel := m.cfg.storeCtx(s.r.Context())
		defer cancel()
		rec, err := m.cfg.Store.Update(ctx, s.key, now, p)
		if errors.Is(err, ErrConflict) && p != &s.patch {
			// Another request renewed first: save this one's own changes
			// (if any) without the renewal, and send no cookie.
			s.lostRenewalLocked()
			if !s.dirty {
				return nil
			}
			rec, err = m.cfg.Store.Update(ctx, s.key, now, &s.patch)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			s.ended = true
			return ErrSessionEnded
		case err != nil:
			return storeErr(err)
		}
		if p != &s.patch && s.rn.due {
			s.renewedLocked()
		}
		s.takeCookieExpiry(rec)
		s.noteStoredLocked(rec)
		s.rec = rec
		s.ck.confirmed = true
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
			s.dropStored(fresh.Values) // issue 11 row 4
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
		attrs = append(attrs, slog.String("previous", m.PublicID(oldKey)))
	}
	m.emit(s.r, s, EventSessionRegenerated, attrs...)
	if s.login != nil {
		m.emit(s.r, s, EventLoginSuccess)
	}
	return nil
}

// create stores rec under a new token and makes it the session's. rec is
// s.rec, with its deadlines set.
func (s *Session) create(rec *Record) error {
	s.takeCookieExpiry(rec) // the old token's, carried over by a rotation
	s.ck.hasExpiry, s.ck.expiryWritten = false, false
	defer s.newSecretLocked(rec, s.m.cfg.Now())()
	if s.cookieModeLocked() == CookieRolling {
		// The new token's cookie is sent now: store when it expires.
		var p Patch
		s.setCookieExpiryLocked(&p)
		rec.Values[keyCookieExpiry] = p.Set[keyCookieExpiry]
		defer delete(rec.Values, keyCookieExpiry)
	}
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

package tether

import (
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

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
	rec.IdleDeadline = m.cfg.idleDeadline(rec, now)
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
	rec.IdleDeadline = m.cfg.idleDeadline(rec, now)
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
	if err := s.allowCreateLocked(rec); err != nil {
		return err
	}
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
	tok := newTokenFor(rec)
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

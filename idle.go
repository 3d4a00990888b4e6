package tether

import (
	"context"
	"errors"
	"time"
)

// DefaultAnonymousIdleTimeout is [Config.AnonymousIdleTimeout]'s default
// (capped at IdleTimeout).
const DefaultAnonymousIdleTimeout = 5 * time.Minute

// Anonymous sessions (issue 11 row 5): any client can make the server store
// one, with a single cookieless request, so their records must cost little:
// they live [Config.AnonymousIdleTimeout] after their last request (5
// minutes by default) instead of the full IdleTimeout, and
// [Config.AllowCreate] can refuse to store more of them (a rate per client
// IP, in the reference server). A login stores a new record (a new token)
// with the full IdleTimeout.
//
// A record's idle deadline is moved by the very store call that loads it
// ([Store.Load], or the Update of a first [Session.Incr]), before the
// Manager sees whether the record is anonymous. So the Manager guesses from
// the token: a token minted for an anonymous record starts with the byte
// anonTokenTag, one minted for an authenticated record never does. The tag
// is inside the signed token, so a client cannot change it; the other 248
// bits stay random. When the guess is wrong (a token minted before this
// rule, 1 in 256 of which carry the tag by chance), fitIdleLocked sets the
// right deadline with one more store call. Anyone who sees the cookie can
// tell an anonymous session from a signed-in one; whoever sees the cookie
// holds the session anyway.
const anonTokenTag = 0xa0

// anonDefaults fills in and checks the fields of c that concern anonymous
// sessions; IdleTimeout is set already.
func (c *Config) anonDefaults(bad func(format string, a ...any)) {
	switch {
	case c.AnonymousIdleTimeout == 0:
		c.AnonymousIdleTimeout = min(DefaultAnonymousIdleTimeout, c.IdleTimeout)
	case c.AnonymousIdleTimeout < time.Second:
		bad("Config.AnonymousIdleTimeout %v must be at least 1s", c.AnonymousIdleTimeout)
	case c.AnonymousIdleTimeout > c.IdleTimeout:
		bad("Config.AnonymousIdleTimeout %v must not be longer than IdleTimeout %v: a session that never logged in gets at most what a signed-in one does", c.AnonymousIdleTimeout, c.IdleTimeout)
	}
}

// idleTimeout returns the idle timeout of a record of userID ("" for an
// anonymous one).
func (c *Config) idleTimeout(userID string) time.Duration {
	if userID == "" {
		return c.AnonymousIdleTimeout
	}
	return c.IdleTimeout
}

// idleDeadline returns the idle deadline that a request at now gives rec:
// its idle timeout from now, capped at its absolute deadline.
func (c *Config) idleDeadline(rec *Record, now time.Time) time.Time {
	return minTime(now.Add(c.idleTimeout(rec.UserID)), rec.AbsoluteDeadline)
}

// guessIdleDeadline returns the idle deadline to pass to the store call
// that loads the record of tok, from its tag (see anonTokenTag).
func (c *Config) guessIdleDeadline(tok []byte, now time.Time) time.Time {
	if anonToken(tok) {
		return now.Add(c.AnonymousIdleTimeout)
	}
	return now.Add(c.IdleTimeout)
}

// anonToken reports whether tok was minted for an anonymous record.
func anonToken(tok []byte) bool { return len(tok) > 0 && tok[0] == anonTokenTag }

// newTokenFor returns a new token for rec, tagged when rec is anonymous.
func newTokenFor(rec *Record) []byte {
	t := newToken()
	switch {
	case rec.UserID == "":
		t[0] = anonTokenTag
	case t[0] == anonTokenTag:
		t[0] ^= 1 // an authenticated token never carries the tag
	}
	return t
}

// fitIdleLocked gives the record just loaded (s.rec under s.key, read at
// now) the idle deadline of its kind when the load set the other kind's,
// because the token's tag guessed wrong: one store call then, none
// otherwise. A record deleted meanwhile ends the session (s.ended); a store
// failure is kept in s.loadErr, as for the load. The caller holds s.mu.
func (s *Session) fitIdleLocked(ctx context.Context, now time.Time) {
	c := &s.m.cfg
	if anonToken(s.token) == (s.rec.UserID == "") || c.AnonymousIdleTimeout == c.IdleTimeout {
		return
	}
	want := c.idleDeadline(s.rec, now)
	ctx, cancel := s.m.cfg.storeCtx(ctx)
	rec, err := s.m.cfg.Store.Update(ctx, s.key, now, &Patch{IdleDeadline: want})
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		s.ended = true
	case err != nil:
		s.loadErr = storeErr(err)
	default:
		s.rec.IdleDeadline = rec.IdleDeadline
	}
}

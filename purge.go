package tether

import (
	"context"
	"errors"
)

// ErrNoPurger is returned by [Manager.EndAllSessions] when the store does
// not implement [Purger].
var ErrNoPurger = errors.New("tether: the store cannot delete every session (no Purger)")

// ReasonRevokeAll is the "reason" attribute of the [EventSessionRevoked]
// that records a [Manager.EndAllSessions].
const ReasonRevokeAll = "revoke_all"

// EndAllSessions ends every session of every user, anonymous sessions
// included (they may hold a CSRF token or pre-login state), without
// rotating the signing secrets: the "revoke everything" of OWASP ASVS
// 7.4.5, for after a breach or a leak of the store. It returns how many
// session records the store deleted. It needs a Store that implements
// [Purger], itself or behind wrappers that expose what they wrap with an
// Unwrap() Store method (a wrapper that times store calls need not pass
// every optional interface through), and returns [ErrNoPurger] otherwise; store failures wrap
// [ErrStoreUnavailable]. Only ctx bounds it, not [Config.StoreTimeout]: a
// purge of a large store takes longer than one request's store call. It
// emits nothing: the caller records the action
// (the reference server emits [EventSessionRevoked] with reason
// [ReasonRevokeAll] and the count).
//
// A request in flight during the purge cannot bring its session back: its
// changes are saved with a conditional Update that finds no record, and a
// rotation re-checks the old record after creating the new one. A login in
// flight, though, creates a new authenticated session after the purge if
// its password check came before it: an application with a user directory
// must make its logins notice, as the reference server does with a
// per-user credential generation that it raises for every user before
// calling EndAllSessions, and checks on the first request after a login.
// Sessions created after the purge (new visitors) are not affected.
func (m *Manager) EndAllSessions(ctx context.Context) (int, error) {
	p, ok := storeBehind[Purger](m.cfg.Store)
	if !ok {
		return 0, ErrNoPurger
	}
	n, err := p.DeleteAll(ctx)
	if err != nil {
		return n, storeErr(err)
	}
	return n, nil
}

package tether

import (
	"errors"
	"fmt"
)

// Errors the middleware answers with a 4xx or 5xx response through
// Config.ErrorHandler. Use errors.Is to recognise them.
var (
	// ErrDuplicateCookie: the request carries the session cookie more than
	// once. Browsers send two cookies of one name when a sibling subdomain or
	// another path has planted a second one (cookie tossing); picking either
	// would let an attacker choose the session, so the request is refused.
	ErrDuplicateCookie = errors.New("tether: duplicate session cookie")
	// ErrCookieTooLarge: the session cookie is longer than
	// Config.MaxCookieBytes. A well-formed cookie is under 100 bytes.
	ErrCookieTooLarge = errors.New("tether: session cookie too large")
	// ErrSessionEnded: the session was destroyed or expired by another
	// request while this one was running, so its changes were not saved.
	// The record is never re-created (no resurrection).
	ErrSessionEnded = errors.New("tether: session ended during the request")
	// ErrSessionDestroyed is returned by Session methods called after Destroy
	// or Logout in the same request.
	ErrSessionDestroyed = errors.New("tether: session destroyed in this request")
	// ErrValueTooLarge: the session's values would exceed [Config.MaxValueBytes].
	ErrValueTooLarge = errors.New("tether: session values too large")
	// ErrNotAuthenticated is returned by Reauthenticate on an anonymous session.
	ErrNotAuthenticated = errors.New("tether: the session is not authenticated")
	// ErrReservedKey is returned by [Session.Set] and [Session.Incr] for a key
	// that starts with [ReservedKeyPrefix]: tether keeps its own bookkeeping
	// (the remember-me choice, the cookie's expiry) under such keys, and the
	// data API neither shows nor changes them. A programming error (500).
	ErrReservedKey = errors.New("tether: session keys starting with \"_tether.\" are reserved for tether")
	// ErrNoSession means that a request carries no [Session] at all: it did
	// not pass through [Manager.Handler]. It is a wiring mistake, never a
	// client's fault (500); [FromContext] panics with it, and packages built
	// on tether (csrf) return it.
	ErrNoSession = errors.New("tether: no session in the request context: wrap the handler with Manager.Handler")
	// ErrResponseStarted is returned by the Session methods that change the
	// session ([Session.Set], [Session.Login], [Session.Regenerate]…) once
	// the session has been saved: the response started (its first byte, a
	// Flush, a Hijack) or the handler returned. The change is not made: it
	// could no longer be saved, nor its cookie sent. Make changes before
	// writing; a long stream or a WebSocket loop changes its session through
	// [Manager.Load]. Methods without an error result ([Session.Remove],
	// [Session.Destroy], [Session.Logout]) record it for [Session.Err]. It
	// is a programming error (500).
	ErrResponseStarted = errors.New("tether: the response has started, so the session can no longer change: change it before writing the response")
)

// noSessionError is [ErrNoSession] for one Manager of several.
type noSessionError struct{ cookie string }

func (e noSessionError) Error() string {
	return fmt.Sprintf("tether: no session of the Manager of cookie %q in the request context: wrap the handler with that Manager's Handler", e.cookie)
}

func (e noSessionError) Is(target error) bool { return target == ErrNoSession }

// storeErr wraps a store failure in [ErrStoreUnavailable] (once).
func storeErr(err error) error {
	if errors.Is(err, ErrStoreUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// ErrNoUserIndex is returned by EndOtherSessions when the store keeps no
// per-user index.
var ErrNoUserIndex = errors.New("tether: the store keeps no per-user index")

// ErrNotFound is returned by a Store when no live record is stored under a key:
// it never existed, it was deleted, or the store already dropped it after expiry.
var ErrNotFound = errors.New("tether: session record not found")

// ErrExists is returned by Store.Create when a record is already stored under
// the key. With 256-bit random tokens this means a broken random source or a bug.
var ErrExists = errors.New("tether: session record already exists")

// ErrNotInteger is returned by Store.Update when a Patch increments a value that
// is present but is not a JSON integer that fits in an int64.
var ErrNotInteger = errors.New("tether: session value is not an integer")

// ErrConflict is returned by Store.Update when a [Patch.Expect] precondition
// does not hold: another writer changed the value first. The patch changed
// nothing.
var ErrConflict = errors.New("tether: session value changed by another request")

// ErrStoreUnavailable wraps errors of a store that cannot be reached (network
// failure, timeout, closed pool). The middleware answers such requests with 503
// and never treats them as "logged out".
var ErrStoreUnavailable = errors.New("tether: session store unavailable")

// errAborted is returned to a handler's Write after the session could not be
// saved and an error response was written instead.
var errAborted = errors.New("tether: response replaced by a session error")

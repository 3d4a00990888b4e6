package dbsc

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
)

// Where a Binder keeps its state: in the session's values, one reserved
// key per concern, each written by a patch that touches only that key.
// Concurrent requests on one session patch only what they change, so none
// can merge the binding away, and a value a request never touched is never
// written back from a stale read.
const (
	// KeyBinding holds the binding: {"id":"<DBSC session identifier>",
	// "at":<Unix second of the registration>}. Enforcement reads only this
	// small value on every request of a bound session.
	KeyBinding = tether.DeviceBindingKeyPrefix + "binding"
	// KeyPublicKey holds the registered public key ([PublicKey.MarshalJSON]),
	// read by refreshes only. Both are written once, at registration, in
	// one patch, which every store applies atomically: a concurrent second
	// registration replaces both or neither.
	KeyPublicKey = tether.DeviceBindingKeyPrefix + "key"
	// KeyOffered records that registration was offered (Unix second), so
	// that a session is offered once.
	KeyOffered = tether.DeviceBindingKeyPrefix + "offered"
	// KeyRefreshed holds the Unix second of the last successful refresh.
	KeyRefreshed = tether.DeviceBindingKeyPrefix + "refreshed"
)

// MaxChallenges bounds a session's outstanding challenges: a client that
// asks for challenges in a loop gets 429 (which keeps the browser's DBSC
// session) instead of growing the session.
const MaxChallenges = 16

// binding is the stored KeyBinding.
type binding struct {
	ID string `json:"id"`
	At int64  `json:"at"`
}

// bindingOf reads the session's binding: ok false when it has none; bad
// true when a value is stored but unreadable (enforcement then fails
// closed).
func bindingOf(raw json.RawMessage) (b binding, ok, bad bool) {
	if raw == nil {
		return binding{}, false, false
	}
	if err := json.Unmarshal(raw, &b); err != nil || !validIdentifier(b.ID) {
		return binding{}, true, true
	}
	return b, true, false
}

// Status is what a listing of sessions shows about a session's binding.
type Status struct {
	// Bound is true once a browser registered a key for the session.
	Bound bool
	// Since is when it registered; LastRefresh when it last proved
	// possession of the key (zero before the first refresh).
	Since, LastRefresh time.Time
	// Algorithm is ES256 or RS256.
	Algorithm string
}

// StatusOf reads the binding from a session's stored values, as
// [tether.SessionInfo.Values] holds them (a listing of a user's sessions).
func StatusOf(values map[string]json.RawMessage) Status {
	b, ok, bad := bindingOf(values[KeyBinding])
	if !ok {
		return Status{}
	}
	st := Status{Bound: true}
	if bad {
		return st
	}
	st.Since = time.Unix(b.At, 0).UTC()
	if k, err := ParsePublicKey(values[KeyPublicKey]); err == nil {
		st.Algorithm = k.Algorithm()
	}
	var at int64
	if json.Unmarshal(values[KeyRefreshed], &at) == nil && at > 0 {
		st.LastRefresh = time.Unix(at, 0).UTC()
	}
	return st
}

// sessionChallenges is the [ChallengeStore] of one request's session: the
// rule of [ChallengeStore] for values, with [TakeIncrement].
type sessionChallenges struct {
	s   *tether.Session
	now func() time.Time
}

// Put records a challenge, first removing the session's taken and expired
// ones; beyond MaxChallenges live ones it refuses with
// ErrTooManyChallenges.
func (c sessionChallenges) Put(_ context.Context, digest string, expires time.Time) error {
	now := c.now()
	var drop []string
	live := 0
	for _, k := range c.s.BindingKeys(ChallengeKeyPrefix) {
		v, err := strconv.ParseInt(string(c.s.BindingValue(k)), 10, 64)
		if err != nil || v <= 0 || !now.Before(time.Unix(v, 0)) {
			drop = append(drop, k)
		} else {
			live++
		}
	}
	if live >= MaxChallenges {
		return ErrTooManyChallenges
	}
	if err := c.s.RemoveBindingValues(drop...); err != nil {
		return err
	}
	return c.s.SetBindingValue(ChallengeKey(digest), []byte(strconv.FormatInt(ChallengeValue(expires), 10)))
}

// Take takes a challenge with one atomic increment. Only a challenge the
// request's loaded record holds is incremented: a digest that was never
// issued costs no store call and leaves no key behind.
func (c sessionChallenges) Take(ctx context.Context, digest string) (time.Time, bool, error) {
	k := ChallengeKey(digest)
	if c.s.BindingValue(k) == nil {
		return time.Time{}, false, nil
	}
	after, err := c.s.IncrBindingValue(ctx, k, TakeIncrement)
	if err != nil {
		return time.Time{}, false, err
	}
	exp, ok := TakenExpiry(after)
	// Removed with the request's save; a concurrent taker that increments
	// after the removal finds a missing key (-2^40): not ok either.
	_ = c.s.RemoveBindingValues(k)
	return exp, ok, nil
}

package tether

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// Record is one session as a Store holds it. The store key is SHA-256 of the
// session token, so a Record never contains anything that authenticates a
// client: a dump of the store yields no usable cookie.
//
// Deadlines are decided by the Manager and enforced on the server: a store
// compares them with the time the Manager passes in and may drop a record once
// the earlier of the two has passed.
type Record struct {
	// Values are the application's session values, JSON-encoded.
	Values map[string]json.RawMessage
	// UserID is the authenticated user, or "" for an anonymous session.
	// It is set when the record is created and never changed by Update
	// (a login or a change of user creates a new record), so stores can keep
	// a per-user index that is maintained only by Create and Delete.
	UserID string
	// CreatedAt is when this record (this token) was created.
	CreatedAt time.Time
	// AuthenticatedAt is the time of the last login or re-authentication,
	// zero for an anonymous session.
	AuthenticatedAt time.Time
	// IdleDeadline is when the session ends unless a request touches it.
	IdleDeadline time.Time
	// AbsoluteDeadline is when the session ends whatever happens. It is set at
	// creation and never extended.
	AbsoluteDeadline time.Time
}

// ExpiredAt reports whether the record has expired at now, and which deadline
// passed first: "idle" or "absolute".
func (r *Record) ExpiredAt(now time.Time) (expired bool, which string) {
	if !now.Before(r.AbsoluteDeadline) {
		return true, "absolute"
	}
	if !now.Before(r.IdleDeadline) {
		return true, "idle"
	}
	return false, ""
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	c.Values = make(map[string]json.RawMessage, len(r.Values))
	for k, v := range r.Values {
		c.Values[k] = append(json.RawMessage(nil), v...)
	}
	return &c
}

// Patch is a set of changes that a Store applies to one record atomically.
// Applying only the changed keys, rather than writing back a whole record that
// was read earlier, is what keeps concurrent requests on one session from
// losing each other's changes.
type Patch struct {
	// Set stores these values (JSON-encoded), replacing existing ones.
	Set map[string]json.RawMessage
	// Delete removes these keys. A key both set and deleted is deleted.
	Delete []string
	// Incr adds these deltas to integer values; a missing key counts as 0.
	// A value that is not a JSON integer (null included), or a sum that
	// would overflow int64, fails the whole patch with [ErrNotInteger].
	// A key present in Incr must not be in Set or Delete.
	Incr map[string]int64
	// IdleDeadline, when not zero, moves the record's idle deadline (the store
	// caps it at the absolute deadline).
	IdleDeadline time.Time
	// AuthenticatedAt, when not zero, replaces the record's authentication time.
	AuthenticatedAt time.Time
	// Expect is a precondition (compare-and-set): the patch applies only if,
	// for every key, the record's current value is byte-equal to the given
	// one, and a nil or empty value requires the key to be absent. Otherwise
	// the Update changes nothing, not even the idle deadline, and returns
	// [ErrConflict]. Values are compared as the store holds them, byte for
	// byte, not as decoded JSON: pass a value as a Load or Update of this
	// store returned it, or compact JSON exactly as it was stored (a store
	// may re-encode what it is given, e.g. escape '<', '>' and '&'). Keys may
	// also appear in Set, Delete or Incr: the comparison is with the value
	// before the patch.
	Expect map[string]json.RawMessage
}

// Empty reports whether p changes nothing. A patch with an Expect is not
// empty: its precondition must be checked.
func (p *Patch) Empty() bool {
	return p == nil || (len(p.Set) == 0 && len(p.Delete) == 0 && len(p.Incr) == 0 &&
		p.IdleDeadline.IsZero() && p.AuthenticatedAt.IsZero() && len(p.Expect) == 0)
}

// Apply applies p to r in place. Stores that read, modify and write a record
// under their own lock or transaction use it so that every store has the same
// semantics. It returns [ErrConflict], leaving r unchanged, if a value of
// [Patch.Expect] does not match, and [ErrNotInteger], leaving r unchanged, if
// an increment meets a value that is not an integer.
func (p *Patch) Apply(r *Record) error {
	if p == nil {
		return nil
	}
	for k, want := range p.Expect {
		got, ok := r.Values[k]
		if ok != (len(want) > 0) || !bytes.Equal(got, want) {
			return ErrConflict
		}
	}
	sums := make(map[string]int64, len(p.Incr))
	for k, d := range p.Incr {
		var cur int64
		if raw, ok := r.Values[k]; ok {
			// null would decode as 0 without error; it is not an integer.
			if string(raw) == "null" || json.Unmarshal(raw, &cur) != nil {
				return ErrNotInteger
			}
		}
		sum := cur + d
		if (d > 0 && sum < cur) || (d < 0 && sum > cur) {
			return ErrNotInteger // would overflow int64
		}
		sums[k] = sum
	}
	if r.Values == nil {
		r.Values = make(map[string]json.RawMessage, len(p.Set)+len(sums))
	}
	for k, v := range p.Set {
		r.Values[k] = append(json.RawMessage(nil), v...)
	}
	for _, k := range p.Delete {
		delete(r.Values, k)
	}
	for k, v := range sums {
		b, _ := json.Marshal(v)
		r.Values[k] = b
	}
	if !p.IdleDeadline.IsZero() {
		r.IdleDeadline = minTime(p.IdleDeadline, r.AbsoluteDeadline)
	}
	if !p.AuthenticatedAt.IsZero() {
		r.AuthenticatedAt = p.AuthenticatedAt
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Store keeps session records. Keys are opaque strings chosen by the
// [Manager] (hex SHA-256 of the token, so a dump of the store yields no
// usable cookie); values are [Record]s. Each method's contract is on the
// method; [storetest.Run] checks all of them for any Store, and every store
// in this module passes it.
//
// Errors other than [ErrNotFound], [ErrExists], [ErrNotInteger] and
// [ErrConflict] mean the store could not answer; a store wraps connectivity
// failures (network, timeout, closed pool) in [ErrStoreUnavailable], which
// the middleware answers with 503 and never treats as a logout. Records may be dropped any
// time after min(IdleDeadline, AbsoluteDeadline), and a store must not keep
// expired records forever.
//
// A Store is safe for concurrent use by many goroutines and, for the shared
// stores (redisstore, pgstore), by many processes.
//
// [storetest.Run]: https://pkg.go.dev/github.com/tetherhq/tether/storetest#Run
type Store interface {
	// Create stores rec under key, a key not used before. It fails with
	// [ErrExists] if a record is already stored under key (with 256-bit
	// random tokens: a broken random source or a bug), and never
	// overwrites one.
	Create(ctx context.Context, key string, rec *Record) error

	// Load returns the record under key. If the record is live at now (both
	// deadlines after now) its idle deadline is first moved to
	// min(idleDeadline, AbsoluteDeadline), in the same round trip, and the
	// returned record shows the new deadline. To spare writes on busy
	// sessions a store may skip a forward move smaller than the slack
	// max((idleDeadline-now)/30, min(1s, (idleDeadline-now)/10)), and then
	// returns the record with the deadline it keeps; it must make every
	// backward move. The slack is what lets a store serve reads from a
	// client-side cache (redisstore on rueidis): a cached copy cannot move
	// its deadline, so the store writes only when the copy has fallen
	// behind by the slack, and that write invalidates every copy. The
	// effective idle timeout is then between idle*29/30 and idle; the
	// returned deadline is always the stored one, so a rolling cookie's
	// Max-Age (computed from it) never outlives the record. A record that
	// has expired at now is returned unchanged (never extended), and never
	// from a cache as if live, so that the caller can tell which deadline
	// passed; a store may instead have dropped it and return [ErrNotFound].
	// A missing key returns [ErrNotFound]. A store with a cache reads from
	// the shared store when ctx carries [WithFreshRead], and never hides
	// its own writes (Create, Update, Delete) from its next Load.
	Load(ctx context.Context, key string, now, idleDeadline time.Time) (*Record, error)

	// Update applies p atomically to the record under key if it exists and
	// is live at now, and returns the record as it is after the patch. It
	// never creates a record: an update of a deleted or expired record
	// returns [ErrNotFound], so a request that was in flight during a logout
	// cannot bring the session back. Concurrent Updates of different keys of
	// one record all take effect, and increments are never lost. An
	// increment of a value that is not an integer fails the whole patch with
	// [ErrNotInteger]. A patch whose [Patch.Expect] does not match the
	// record's current values changes nothing and returns [ErrConflict]
	// (checked atomically with the write: compare-and-set); a missing or
	// expired record is still [ErrNotFound]. An empty patch reads the record,
	// only while it is live.
	Update(ctx context.Context, key string, now time.Time, p *Patch) (*Record, error)

	// Delete removes the record under key, and its entry in the per-user
	// index if the store keeps one. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Pinger is implemented by stores that can report whether they are
// reachable. The reference server's /readyz uses it.
type Pinger interface {
	// Ping returns nil when the store answers within ctx's deadline, and an
	// error wrapping [ErrStoreUnavailable] otherwise.
	Ping(ctx context.Context) error
}

// UserIndex is implemented by stores that keep a per-user index of
// authenticated sessions ([Record.UserID]), maintained by Create and Delete.
// Listing and revoking cost O(sessions of that user), never a scan of the
// store. [Manager.UserSessions], [Manager.EndUserSessions],
// [Manager.SetUserSessions] and [Session.EndOtherSessions] need it, and
// return [ErrNoUserIndex] without it.
type UserIndex interface {
	// ListUser returns the user's sessions that are live at now, keyed by
	// store key. Expired records are left out; a user without sessions has
	// none (an empty result, no error).
	ListUser(ctx context.Context, userID string, now time.Time) (map[string]*Record, error)

	// DeleteUser deletes every session of the user and returns how many it
	// deleted.
	DeleteUser(ctx context.Context, userID string) (int, error)
}

// Purger is implemented by stores that can delete every session they hold
// at once, anonymous ones included. [Manager.EndAllSessions] needs it and
// returns [ErrNoPurger] without it.
type Purger interface {
	// DeleteAll deletes every session record the store holds (anonymous
	// and authenticated, live or expired but not yet removed) and every
	// per-user index entry, and returns how many session records it
	// deleted. A record created while it runs may survive; none that
	// existed when it started does. Like Delete, it makes later Updates
	// of the deleted keys return [ErrNotFound]. It may scan the store (in
	// bounded batches, never blocking it for long): it is an
	// administrator's action, not a request's.
	DeleteAll(ctx context.Context) (int, error)
}

package tether

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// EncryptStore returns s wrapped so that every session value is stored
// AES-256-GCM encrypted, and no user ID is stored in the clear. [New] does
// this itself when [Config.EncryptionKeys] is set; call EncryptStore to read
// or change the sessions of such a Manager from elsewhere (an admin tool)
// with the same keys.
//
// keys are 32 random bytes each: the first encrypts, every one decrypts, so
// a key is rotated by putting the new one first and keeping the old one
// until every record it encrypted has ended (longer than the absolute
// timeout).
//
// What is stored:
//
//   - Each value of [Record.Values] separately: a JSON string holding a key
//     ID, a random nonce and the AES-256-GCM ciphertext. The AES key is
//     derived from the configured key and the store key; the associated data
//     holds the store key and the value's name. A record, or a value, copied
//     to another store key or another name does not decrypt.
//   - [Record.UserID] as a keyed HMAC of the user ID (deterministic, so that
//     the store's per-user index keeps working; it shows which sessions
//     belong to one user, not who the user is), and the user ID itself
//     encrypted as one more value, reserved to the wrapper. Lookups by user
//     try the HMAC under every key, so a rotation loses no index entry.
//   - The deadlines, the creation and authentication times and the value
//     names stay in the clear: stores need the deadlines, and the others say
//     nothing about who the user is.
//
// A record that no key opens is reported as an error matching both
// [ErrUndecryptable] and [ErrNotFound]: fail closed, see [ErrUndecryptable].
// Records written before encryption was turned on do not open either, so
// turning it on ends the sessions that exist (users log in again).
//
// Threat model: this protects what the store holds, at rest and in its
// backups, replicas and dumps, from someone who can read them but not the
// keys, and refuses records that someone who can write the store moved or
// changed. It does not protect against someone who has the keys, nor hide
// how many sessions a user has, when they were made, or how big the values
// are; and a writer of the store can still delete sessions or bring back an
// old copy of a record under its own key (a replay).
//
// Cost: sealing and opening are done in memory. [Patch.Incr] and
// [Patch.Expect] cannot be evaluated by the store on ciphertext: the
// wrapper reads the record, computes on the plaintext and writes with a
// compare-and-set on the ciphertext it read, retrying on a conflict (see
// [ErrEncryptedContention]); such an Update costs two store calls instead of
// one.
//
// The wrapper implements [Pinger] and [UserIndex] when s does, and its
// Unwrap method returns s. It is safe for concurrent use if s is.
func EncryptStore(s Store, keys [][]byte) (Store, error) {
	if s == nil {
		return nil, errors.New("tether: EncryptStore: the store is nil")
	}
	ring, errs := newKeyring(keys)
	for i, err := range errs {
		errs[i] = fmt.Errorf("tether: EncryptStore: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return newEncStore(s, ring), nil
}

// newEncStore wraps s, exposing the optional interfaces s implements.
func newEncStore(s Store, ring *keyring) Store {
	base := &encStore{inner: s, ring: ring}
	p, isPinger := s.(Pinger)
	idx, isIndex := s.(UserIndex)
	switch {
	case isPinger && isIndex:
		return &encPingIndexStore{base, p, encIndex{base, idx}}
	case isPinger:
		return &encPingStore{base, p}
	case isIndex:
		return &encIndexStore{base, encIndex{base, idx}}
	default:
		return base
	}
}

// The wrappers: the store alone, or with the capabilities of the inner one.
type (
	encPingStore struct {
		*encStore
		Pinger
	}
	encIndexStore struct {
		*encStore
		encIndex
	}
	encPingIndexStore struct {
		*encStore
		Pinger
		encIndex
	}
)

// uidValue is the reserved value that holds the encrypted user ID.
const uidValue = ReservedKeyPrefix + "uid"

// errUIDValue refuses a patch or record that names uidValue.
var errUIDValue = fmt.Errorf("tether: the session value %q is reserved to the encrypting store", uidValue)

// encStore seals values on the way in and opens them on the way out.
type encStore struct {
	inner Store
	ring  *keyring
	locks keyLocks // see updateCAS
}

// Unwrap returns the wrapped store.
func (e *encStore) Unwrap() Store { return e.inner }

// Create implements [Store].
func (e *encStore) Create(ctx context.Context, key string, rec *Record) error {
	c := e.ring.forRecord(key)
	out := *rec
	out.UserID = e.ring.pseudonym(0, rec.UserID)
	out.Values = make(map[string]json.RawMessage, len(rec.Values)+1)
	for name, v := range rec.Values {
		if name == uidValue {
			return errUIDValue
		}
		out.Values[name] = c.seal(name, v)
	}
	if rec.UserID != "" {
		uid, _ := json.Marshal(rec.UserID) // a string always encodes
		out.Values[uidValue] = c.seal(uidValue, uid)
	}
	return e.inner.Create(ctx, key, &out)
}

// Load implements [Store].
func (e *encStore) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*Record, error) {
	rec, err := e.inner.Load(ctx, key, now, idleDeadline)
	if err != nil {
		return nil, err
	}
	return e.open(key, rec)
}

// Update implements [Store].
func (e *encStore) Update(ctx context.Context, key string, now time.Time, p *Patch) (*Record, error) {
	if p == nil {
		p = &Patch{}
	}
	if err := checkPatchNames(p); err != nil {
		return nil, err
	}
	if needsCAS(p) {
		return e.updateCAS(ctx, key, now, p)
	}
	c := e.ring.forRecord(key)
	q := *p
	q.Set = c.sealAll(p.Set)
	rec, err := e.inner.Update(ctx, key, now, &q)
	if err != nil {
		return nil, err
	}
	return e.openWith(c, rec)
}

// Delete implements [Store].
func (e *encStore) Delete(ctx context.Context, key string) error {
	return e.inner.Delete(ctx, key)
}

// sealAll seals the values of set for c's record.
func (c *recordCipher) sealAll(set map[string]json.RawMessage) map[string]json.RawMessage {
	if len(set) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(set))
	for name, v := range set {
		out[name] = c.seal(name, v)
	}
	return out
}

// open decrypts rec, stored under key, into a new Record with the real
// user ID. Every value must open, and the stored user pseudonym must belong
// to the encrypted user ID; otherwise the error matches [ErrUndecryptable].
func (e *encStore) open(key string, rec *Record) (*Record, error) {
	return e.openWith(e.ring.forRecord(key), rec)
}

// openWith is open with the cipher of the record's key.
func (e *encStore) openWith(c *recordCipher, rec *Record) (*Record, error) {
	out := *rec
	out.UserID = ""
	out.Values = make(map[string]json.RawMessage, len(rec.Values))
	var uid json.RawMessage
	for name, v := range rec.Values {
		plain, err := c.open(name, v)
		if err != nil {
			return nil, err
		}
		if name == uidValue {
			uid = plain
			continue
		}
		out.Values[name] = plain
	}
	switch {
	case rec.UserID == "" && uid == nil:
	case rec.UserID == "" || uid == nil:
		return nil, undecryptable("user ID", "the record's user and its encrypted user ID disagree")
	default:
		if err := json.Unmarshal(uid, &out.UserID); err != nil || out.UserID == "" {
			return nil, undecryptable("user ID", "not a JSON string")
		}
		if !e.ring.isPseudonymOf(rec.UserID, out.UserID) {
			return nil, undecryptable("user ID", "the record's user and its encrypted user ID disagree")
		}
	}
	return &out, nil
}

// checkPatchNames refuses a patch that touches the reserved user-ID value.
func checkPatchNames(p *Patch) error {
	_, set := p.Set[uidValue]
	_, incr := p.Incr[uidValue]
	for _, k := range p.Delete {
		if k == uidValue {
			return errUIDValue
		}
	}
	if set || incr || expects(p, uidValue) {
		return errUIDValue
	}
	return nil
}

// encIndex is the [UserIndex] of an encrypting store: it looks the user up
// under the pseudonym of every key.
type encIndex struct {
	e     *encStore
	inner UserIndex
}

// ListUser implements [UserIndex]. Records that do not open (sealed with a
// key no longer configured) are left out: they cannot be used any more.
func (x encIndex) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*Record, error) {
	out := map[string]*Record{}
	for _, p := range x.e.pseudonymsOf(userID) {
		recs, err := x.inner.ListUser(ctx, p, now)
		if err != nil {
			return nil, err
		}
		for key, rec := range recs {
			r, err := x.e.open(key, rec)
			switch {
			case errors.Is(err, ErrUndecryptable):
				continue
			case err != nil:
				return nil, err
			case r.UserID != userID:
				continue // cannot happen unless two users' HMACs collide
			}
			out[key] = r
		}
	}
	return out, nil
}

// DeleteUser implements [UserIndex]. It deletes under the previous keys'
// pseudonyms first and the current key's last: a rotation (a Regenerate)
// that runs meanwhile moves a session from an old pseudonym to the current
// one, never back, so the current one, deleted last, catches it (the
// Manager's rotation re-checks the old record after creating the new one,
// and the inner store's DeleteUser repeats its own listing).
func (x encIndex) DeleteUser(ctx context.Context, userID string) (int, error) {
	total := 0
	ps := x.e.pseudonymsOf(userID)
	slices.Reverse(ps)
	for _, p := range ps {
		n, err := x.inner.DeleteUser(ctx, p)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// pseudonymsOf returns what the inner index holds userID's sessions under.
func (e *encStore) pseudonymsOf(userID string) []string {
	if userID == "" {
		return []string{""} // not indexed; asked once
	}
	return e.ring.pseudonyms(userID)
}

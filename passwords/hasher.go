package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Errors from Hash. They never contain the password, and read as a
// sentence a person can act on, without a package prefix, since they end
// up in front of users (the CLI and the server's answers word their own,
// matching them with errors.Is).
var (
	ErrPasswordTooShort = fmt.Errorf("the password is too short: use at least %d bytes", MinLength)
	ErrPasswordTooLong  = fmt.Errorf("the password is too long: use at most %d bytes", MaxLength)
)

// testHookInSlot, when set by a test, runs inside a slot before each
// computation.
var testHookInSlot func()

// testHookParams, when set by a test, receives the parameters of each
// computation.
var testHookParams func(Params)

// Hasher hashes and verifies passwords with fixed parameters and a bound on
// concurrent Argon2id computations. Create one with [NewHasher] or
// [NewHasherWith]; it is safe for concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{} // semaphore: one token per running computation

	computations atomic.Int64
	waiting      atomic.Int64

	stored tally // parameters of the stored hashes verified, for Dummy
}

// NewHasher returns a Hasher with [Default] parameters that runs at most
// max(2, GOMAXPROCS) computations at once: 19 MiB each, so about 38 MiB on
// two cores.
func NewHasher() *Hasher {
	return NewHasherWith(Default, max(2, runtime.GOMAXPROCS(0)))
}

// NewHasherWith returns a Hasher with parameters p that runs at most
// concurrency computations at once. It panics if p is outside the package
// limits (Threads 1-64, Memory 8×Threads-1 GiB, Time 1-100, SaltLen 8-64,
// KeyLen 16-128) or concurrency < 1: that is a programming error.
func NewHasherWith(p Params, concurrency int) *Hasher {
	if msg := p.valid(); msg != "" {
		panic("passwords: invalid parameters: " + msg)
	}
	if concurrency < 1 {
		panic(fmt.Sprintf("passwords: concurrency %d < 1", concurrency))
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency)}
}

// Params returns the Hasher's parameters.
func (h *Hasher) Params() Params { return h.params }

// Concurrency returns how many computations the Hasher runs at once.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// Computations returns the number of Argon2id computations the Hasher has
// run (for metrics, and for tests that check equal work).
func (h *Hasher) Computations() int64 { return h.computations.Load() }

// InFlight returns how many computations run now (at most Concurrency).
func (h *Hasher) InFlight() int { return len(h.slots) }

// Waiting returns how many callers wait for a slot now.
func (h *Hasher) Waiting() int64 { return h.waiting.Load() }

// idKey runs one Argon2id computation once a slot is free, or gives up with
// an error wrapping ctx.Err() when ctx ends first.
func (h *Hasher) idKey(ctx context.Context, password string, salt []byte, p Params, keyLen int) ([]byte, error) {
	if ctx.Err() != nil { // select would pick at random if a slot were free too
		return nil, fmt.Errorf("passwords: not hashing: %w", context.Cause(ctx))
	}
	select {
	case h.slots <- struct{}{}:
	default:
		h.waiting.Add(1)
		select {
		case h.slots <- struct{}{}:
			h.waiting.Add(-1)
		case <-ctx.Done():
			h.waiting.Add(-1)
			return nil, fmt.Errorf("passwords: waiting for a hashing slot: %w", context.Cause(ctx))
		}
	}
	defer func() { <-h.slots }()
	h.computations.Add(1)
	if testHookInSlot != nil {
		testHookInSlot()
	}
	if testHookParams != nil {
		testHookParams(p)
	}
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(keyLen)), nil
}

// Hash returns the PHC string of password, with a fresh random salt and the
// Hasher's parameters. It fails with [ErrPasswordTooShort] or
// [ErrPasswordTooLong] outside [MinLength]-[MaxLength] bytes, and with an error
// wrapping the context's error if ctx ends while it waits for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	switch {
	case len(password) < MinLength:
		return "", ErrPasswordTooShort
	case len(password) > MaxLength:
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails: crypto/rand.Read crashes the program rather than return an error
	key, err := h.idKey(ctx, password, salt, h.params, h.params.KeyLen)
	if err != nil {
		return "", err
	}
	return format(h.params, salt, key), nil
}

// Verify reports whether password matches the stored PHC string phc
// (compared in constant time), and whether phc was made with parameters
// other than the Hasher's, so the caller should store a fresh Hash after a
// successful check. It returns [ErrMalformedHash] for an invalid phc (without
// doing any hashing), and an error wrapping the context's error if ctx ends
// while it waits for a slot. A password longer than [MaxLength] never matches,
// but costs the same work as any other.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (ok, needsRehash bool, err error) {
	p, salt, want, err := Parse(phc)
	if err != nil {
		return false, false, err
	}
	h.stored.add(p)
	tooLong := len(password) > MaxLength
	if tooLong {
		password = password[:MaxLength]
	}
	got, err := h.idKey(ctx, password, salt, p, len(want))
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1 && !tooLong
	return ok, p != h.params, nil
}

// Dummy spends the work of one [Hasher.Verify] of a typical stored hash,
// and always fails: call it when the user is unknown, so that the answer
// takes as long as for a wrong password. The work uses the parameters
// [Hasher.DummyParams] returns, a fresh random salt and a random key that
// no password matches. It returns a non-nil error only when ctx ends while
// it waits for a slot.
func (h *Hasher) Dummy(ctx context.Context, password string) error {
	p := h.DummyParams()
	if len(password) > MaxLength {
		password = password[:MaxLength]
	}
	salt := make([]byte, p.SaltLen)
	want := make([]byte, p.KeyLen)
	rand.Read(salt) // never fails: crypto/rand.Read crashes the program rather than return an error
	rand.Read(want)
	got, err := h.idKey(ctx, password, salt, p, p.KeyLen)
	if err != nil {
		return err
	}
	_ = subtle.ConstantTimeCompare(got, want) // the same work as Verify's comparison
	return nil
}

// DummyParams returns the parameters [Hasher.Dummy] works with: those of
// the stored hashes that Verify checked most often recently, or the
// Hasher's own parameters before the first Verify (and on a tie).
//
// Why: after the parameters change, stored hashes keep the old ones until
// each account's next successful login, so most failed logins of existing
// accounts cost the old parameters' work. A dummy with the new parameters
// would then make an unknown user answer at a different speed than a known
// one (issue 11 row 9). The dummy follows the stored hashes instead, whether
// they are cheaper or costlier than the Hasher's.
//
// Why exactly the typical stored parameters, and not "never weaker than the
// defaults": the dummy hash protects no secret (it is random and matches
// nothing), so cheaper dummy work weakens no password; it only has to look
// like the work of a real account, and a floor at the defaults would bring
// the timing difference back after every raise of the parameters. The cost
// stays bounded: the parameters come from stored hashes that [Parse]
// accepted (within the package limits), and Dummy waits for a slot like
// every other computation.
//
// [Hasher.CountStored] counts a stored hash without verifying it (for a
// directory to call at start). What is kept: a count for each of at most 8 parameter sets, halved
// whenever the counts reach 1024 so that they follow the recent mix of
// logins; when a new set arrives and 8 are counted, the least counted is
// dropped. No user, hash or salt is kept. A client can only add
// verifications of hashes that exist, at the rate the login throttle
// allows, so steering the dummy towards a rare parameter set takes failed
// logins against accounts that have it, outnumbering every other login.
func (h *Hasher) DummyParams() Params { return h.stored.mode(h.params) }

// CountStored counts the parameters of the stored hash phc for
// [Hasher.DummyParams] without verifying anything; it returns
// [ErrMalformedHash], and counts nothing, when phc does not parse. A user directory can call it for
// its stored hashes at start, so that the dummy work matches them from the
// first login after a restart rather than from the first verifications.
// It costs a parse, no hashing.
func (h *Hasher) CountStored(phc string) error {
	p, _, _, err := Parse(phc)
	if err != nil {
		return err
	}
	h.stored.add(p)
	return nil
}

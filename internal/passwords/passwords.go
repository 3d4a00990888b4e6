// Package passwords hashes passwords with Argon2id (RFC 9106) in the PHC
// string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<key, base64>
//
// Parameters: m = 19 MiB, t = 2, p = 1, a 16-byte salt and a 32-byte key: the
// first of the equivalent minimum configurations in OWASP's Password Storage
// Cheat Sheet. Hashes with other parameters still verify, and Verify reports
// that they need rehashing, so raising the parameters later upgrades every
// account at its next login.
//
// Threat model: a stolen user table must cost an attacker one Argon2id
// computation per guess; a flood of logins must not exhaust memory. Each hash
// takes m KiB, so a Hasher bounds concurrent computations (default
// max(2, GOMAXPROCS)); further callers wait, or give up when their context
// ends. Dummy gives an unknown user the same cost as a wrong password, so
// timing does not reveal which user names exist.
//
// A Hasher is safe for concurrent use. Errors never contain a password or a
// hash.
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  int
}

// Default is OWASP's minimum recommended Argon2id configuration.
var Default = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Length limits on a new password.
const (
	MinLength = 8
	MaxLength = 1024
)

// Limits on parameters read from a stored hash, so that a corrupted or
// hostile row cannot make a login allocate unbounded memory or spin.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 100
	maxThreads = 64
	maxSaltLen = 64
	maxKeyLen  = 128
	maxPHCLen  = 512
)

// Errors.
var (
	ErrPasswordTooShort = fmt.Errorf("passwords: password must be at least %d bytes", MinLength)
	ErrPasswordTooLong  = fmt.Errorf("passwords: password must be at most %d bytes", MaxLength)
	ErrMalformedHash    = errors.New("passwords: stored hash is not a valid argon2id PHC string")
)

// Hasher hashes and verifies passwords with bounded concurrency.
type Hasher struct {
	params Params
	slots  chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher with Default parameters and
// max(2, GOMAXPROCS) concurrent computations.
func NewHasher() *Hasher {
	return NewHasherWith(Default, max(2, runtime.GOMAXPROCS(0)))
}

// NewHasherWith returns a Hasher with the given parameters and concurrency
// bound. It panics on parameters below 1 or above the parse limits: that is a
// programming error.
func NewHasherWith(p Params, concurrency int) *Hasher {
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || p.Threads > maxThreads || p.SaltLen < 8 || p.SaltLen > maxSaltLen ||
		p.KeyLen < 16 || p.KeyLen > maxKeyLen || concurrency < 1 {
		panic(fmt.Sprintf("passwords: invalid parameters %+v, concurrency %d", p, concurrency))
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency)}
}

// Params returns the Hasher's parameters.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a computation slot or gives up when ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("passwords: waiting for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	switch {
	case len(password) < MinLength:
		return "", ErrPasswordTooShort
	case len(password) > MaxLength:
		return "", ErrPasswordTooLong
	}
	return h.hash(ctx, password)
}

func (h *Hasher) hash(ctx context.Context, password string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	h.release()
	return format(p, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, and whether
// phc uses parameters other than the Hasher's (so it should be rehashed after
// a successful login). The comparison is constant-time.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (ok, needsRehash bool, err error) {
	p, salt, want, err := Parse(phc)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxLength {
		// Still do the work, so that the answer takes as long as any other.
		password = password[:MaxLength]
		defer func() { ok = false }()
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	ok = subtle.ConstantTimeCompare(got, want) == 1
	needsRehash = p.Memory != h.params.Memory || p.Time != h.params.Time ||
		p.Threads != h.params.Threads || len(salt) != h.params.SaltLen || len(want) != h.params.KeyLen
	return ok, needsRehash, nil
}

// Dummy spends the same work as verifying a password against a hash made
// with the Hasher's parameters, and always fails. Use it for unknown users.
func (h *Hasher) Dummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		_, _ = rand.Read(salt)
		key := make([]byte, h.params.KeyLen)
		_, _ = rand.Read(key)
		h.dummy = format(h.params, salt, key)
	})
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

var b64 = base64.RawStdEncoding

func format(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse decodes an argon2id PHC string strictly, within fixed limits.
func Parse(phc string) (p Params, salt, key []byte, err error) {
	// base64 decoders skip \r and \n; refuse them so that exactly one string
	// encodes a hash (found by FuzzParsePHC).
	if len(phc) > maxPHCLen || strings.ContainsAny(phc, "\r\n") {
		return p, nil, nil, ErrMalformedHash
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return p, nil, nil, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		vals[i] = n
	}
	p.Memory, p.Time = uint32(vals[0]), uint32(vals[1])
	if vals[2] < 1 || vals[2] > maxThreads || p.Time < 1 || p.Time > maxTime ||
		p.Memory > maxMemory || p.Memory < 8*uint32(vals[2]) {
		return p, nil, nil, ErrMalformedHash
	}
	p.Threads = uint8(vals[2])
	salt, err1 := b64.Strict().DecodeString(parts[4])
	key, err2 := b64.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > maxSaltLen || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	return p, salt, key, nil
}

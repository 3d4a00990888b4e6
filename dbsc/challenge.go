package dbsc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultChallengeTTL is how long an issued challenge can be answered when
// [Challenges.TTL] is zero. Chromium answers a challenge within the same
// second; the margin covers a slow signing key (a busy TPM) and network
// latency, while keeping a leaked challenge useless soon after.
const DefaultChallengeTTL = 2 * time.Minute

// ErrChallenge is returned by [Challenges.Consume] for a challenge that was
// never issued (for this session), was already used, or has expired. The
// three are one error on purpose: the answer is the same (4xx, the browser
// ends its DBSC session or asks for a new challenge after a 403) and the
// distinction helps only an attacker.
var ErrChallenge = errors.New("dbsc: unknown, used or expired challenge")

// ChallengeStore keeps the challenges issued to one tether session and not
// yet used, each under its own digest (see [ChallengeKey]). Implementations
// must be safe for concurrent use.
//
// The rule for a store that lives in the session's values (the tether
// wiring): every challenge is its own reserved key, [ChallengeKey](digest),
// written with a patch that sets only that key; challenges are never kept
// in one shared value (a list, a "current challenge" field). Concurrent
// requests on one session patch only the keys they change, so two refreshes
// that each issue a challenge keep both, and a request that issues one
// cannot bring back, through a stale read-modify-write, a challenge that
// another request has just used. Take must be atomic on that one key (for
// example: an increment whose result only the first taker sees, or a
// delete that reports whether it removed something), so that of two
// concurrent requests presenting one proof exactly one succeeds.
// [TakeIncrement] and [TakenExpiry] give that take on tether's Patch.
type ChallengeStore interface {
	// Put records the challenge with this digest until expires.
	Put(ctx context.Context, digest string, expires time.Time) error
	// Take removes the challenge with this digest and returns its expiry.
	// ok is false when there is none. Of concurrent Takes of one digest at
	// most one returns ok.
	Take(ctx context.Context, digest string) (expires time.Time, ok bool, err error)
}

// ChallengeKeyPrefix starts the session value keys under which the tether
// wiring keeps challenges. It lies under tether's ReservedKeyPrefix
// ("_tether."), so the application's data API neither shows nor changes
// them.
const ChallengeKeyPrefix = "_tether.dbsc.challenge."

// ChallengeKey is the session value key of the challenge with this digest.
// The key holds the digest, not the challenge: key names may be listed, and
// a digest cannot answer a challenge.
func ChallengeKey(digest string) string { return ChallengeKeyPrefix + digest }

// ChallengeDigest is the key of challenge in a [ChallengeStore]: the
// unpadded base64url SHA-256 of the challenge (43 bytes).
func ChallengeDigest(challenge string) string {
	d := sha256.Sum256([]byte(challenge))
	return base64.RawURLEncoding.EncodeToString(d[:])
}

// Challenges issues and consumes single-use challenges for one session.
// The zero TTL means [DefaultChallengeTTL].
type Challenges struct {
	Store ChallengeStore
	TTL   time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Challenges) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Challenges) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultChallengeTTL
}

// Issue makes a new challenge (256 bits from crypto/rand, unpadded
// base64url, 43 bytes), records it and returns it.
func (c *Challenges) Issue(ctx context.Context) (string, error) {
	if c.Store == nil {
		return "", errNoStore
	}
	ch, err := randomString(32)
	if err != nil {
		return "", err
	}
	if err := c.Store.Put(ctx, ChallengeDigest(ch), c.now().Add(c.ttl())); err != nil {
		return "", fmt.Errorf("dbsc: storing a challenge: %w", err)
	}
	return ch, nil
}

// Consume uses challenge up: it returns nil once for an issued, unexpired
// challenge, and [ErrChallenge] for every other call (unknown, repeated,
// expired: an expired challenge is taken out all the same). Call it only
// after the proof's signature verified, so that forged proofs cannot burn
// the challenges of the real browser.
//
// The comparison with the issued challenge is by SHA-256 digest: a store
// looks the digest up, and the timing of that lookup tells nothing about
// the challenge (finding a challenge from its digest's prefix is a preimage
// search).
func (c *Challenges) Consume(ctx context.Context, challenge string) error {
	if c.Store == nil {
		return errNoStore
	}
	if challenge == "" || len(challenge) > maxClaimBytes {
		return ErrChallenge
	}
	exp, ok, err := c.Store.Take(ctx, ChallengeDigest(challenge))
	if err != nil {
		return fmt.Errorf("dbsc: reading a challenge: %w", err)
	}
	if !ok || !c.now().Before(exp) {
		return ErrChallenge
	}
	return nil
}

var errNoStore = errors.New("dbsc: Challenges.Store is nil")

// randomString returns n bytes from crypto/rand as unpadded base64url.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("dbsc: random source: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewSessionIdentifier returns a new DBSC session identifier: "d" and 128
// bits from crypto/rand in unpadded base64url (23 bytes). The leading
// letter makes it an sf-token, so the bare form Chromium sends in
// Sec-Secure-Session-Id parses (see [SessionID]). It names the binding, it
// is not a credential: the refresh request also carries the session cookie.
func NewSessionIdentifier() (string, error) {
	s, err := randomString(16)
	if err != nil {
		return "", err
	}
	return "d" + s, nil
}

// MemoryChallenges is a [ChallengeStore] in process memory, for one
// session or as a reference for other stores. It holds at most Max
// challenges (MaxChallenges when zero): Put first drops expired ones, then refuses
// with [ErrTooManyChallenges], so a client that asks for challenges in a
// loop cannot grow it. Safe for concurrent use; the zero value is ready.
type MemoryChallenges struct {
	Max int
	// Now is the clock used to drop expired challenges; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[string]time.Time
}

// ErrTooManyChallenges is returned by [MemoryChallenges.Put], and by the
// session-backed store, when the session already holds its maximum of
// unexpired challenges.
var ErrTooManyChallenges = errors.New("dbsc: too many outstanding challenges")

// Put implements [ChallengeStore].
func (s *MemoryChallenges) Put(_ context.Context, digest string, expires time.Time) error {
	limit := s.Max
	if limit <= 0 {
		limit = MaxChallenges
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]time.Time)
	}
	if len(s.m) >= limit {
		for d, exp := range s.m {
			if !now.Before(exp) {
				delete(s.m, d)
			}
		}
	}
	if len(s.m) >= limit {
		return ErrTooManyChallenges
	}
	s.m[digest] = expires
	return nil
}

// Take implements [ChallengeStore]. It compares the digest with each of its
// (at most Max) digests in constant time.
func (s *MemoryChallenges) Take(_ context.Context, digest string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, exp := range s.m {
		if subtle.ConstantTimeCompare([]byte(d), []byte(digest)) == 1 {
			delete(s.m, d)
			return exp, true, nil
		}
	}
	return time.Time{}, false, nil
}

package dbsc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestChallengesConsume: issue 16 "refuses an unknown or reused or expired
// challenge".
func TestChallengesConsume(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	newCh := func() *Challenges {
		return &Challenges{Store: &MemoryChallenges{Now: clock.Now}, TTL: time.Minute, Now: clock.Now}
	}
	cases := []struct {
		name    string
		run     func(c *Challenges) error
		wantErr error
	}{
		{"issued once, used once", func(c *Challenges) error {
			ch, _ := c.Issue(ctx)
			return c.Consume(ctx, ch)
		}, nil},
		{"unknown", func(c *Challenges) error {
			_, _ = c.Issue(ctx)
			return c.Consume(ctx, "chal-1")
		}, ErrChallenge},
		{"empty", func(c *Challenges) error { return c.Consume(ctx, "") }, ErrChallenge},
		{"oversize", func(c *Challenges) error { return c.Consume(ctx, strings.Repeat("a", 2000)) }, ErrChallenge},
		{"reused (replay)", func(c *Challenges) error {
			ch, _ := c.Issue(ctx)
			if err := c.Consume(ctx, ch); err != nil {
				return err
			}
			return c.Consume(ctx, ch)
		}, ErrChallenge},
		{"expired", func(c *Challenges) error {
			ch, _ := c.Issue(ctx)
			clock.Add(time.Minute)
			return c.Consume(ctx, ch)
		}, ErrChallenge},
		{"just before expiry", func(c *Challenges) error {
			ch, _ := c.Issue(ctx)
			clock.Add(time.Minute - time.Second)
			return c.Consume(ctx, ch)
		}, nil},
		{"of another session", func(c *Challenges) error {
			ch, _ := newCh().Issue(ctx)
			return c.Consume(ctx, ch)
		}, ErrChallenge},
		{"an older challenge still valid after a newer one (draft: race of refreshes)", func(c *Challenges) error {
			old, _ := c.Issue(ctx)
			_, _ = c.Issue(ctx)
			return c.Consume(ctx, old)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(newCh()); !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// Two refreshes presenting one proof at once: exactly one wins (issue 16
// "replay and concurrency (two refreshes at once)").
func TestChallengesConcurrentConsume(t *testing.T) {
	ctx := context.Background()
	c := &Challenges{Store: &MemoryChallenges{}}
	for round := 0; round < 50; round++ {
		ch, err := c.Issue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if c.Consume(ctx, ch) == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if got := ok.Load(); got != 1 {
			t.Fatalf("round %d: %d consumers succeeded, want 1", round, got)
		}
	}
}

func TestChallengeFormat(t *testing.T) {
	c := &Challenges{Store: &MemoryChallenges{}}
	seen := map[string]bool{}
	for range 100 {
		ch, err := c.Issue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ch) != 43 || seen[ch] {
			t.Fatalf("got challenge %q (len %d, seen before %v), want 43 new base64url bytes", ch, len(ch), seen[ch])
		}
		if _, err := decodeB64URL(ch); err != nil {
			t.Fatalf("challenge %q is not base64url: %v", ch, err)
		}
		seen[ch] = true
		// Every challenge fits an offer unchanged.
		if _, err := (Offer{Path: "/dbsc/register", Challenge: ch}).HeaderValue(); err != nil {
			t.Fatal(err)
		}
		_ = c.Consume(context.Background(), ch)
	}
	id, err := NewSessionIdentifier()
	if err != nil || len(id) != 23 || !isToken(id) {
		t.Fatalf("NewSessionIdentifier() = %q, %v; want a 23-byte sf-token", id, err)
	}
}

// A client asking for challenges in a loop cannot grow the store; expired
// ones make room again.
func TestMemoryChallengesBound(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := &MemoryChallenges{Max: 3, Now: clock.Now}
	c := &Challenges{Store: s, TTL: time.Minute, Now: clock.Now}
	for range 3 {
		if _, err := c.Issue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Issue(ctx); !errors.Is(err, ErrTooManyChallenges) {
		t.Fatalf("4th challenge: got %v, want ErrTooManyChallenges", err)
	}
	clock.Add(time.Minute)
	if _, err := c.Issue(ctx); err != nil {
		t.Fatalf("after expiry: got %v, want room", err)
	}
}

// A Challenges without a store is a misconfiguration: an error, not a panic.
func TestChallengesWithoutStore(t *testing.T) {
	c := &Challenges{}
	if _, err := c.Issue(context.Background()); err == nil {
		t.Fatal("Issue without a store: got no error")
	}
	if err := c.Consume(context.Background(), "c"); err == nil || errors.Is(err, ErrChallenge) {
		t.Fatalf("Consume without a store: got %v, want the configuration error", err)
	}
}

package throttle

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/internal/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiterMemory(t *testing.T) {
	ck := &clock{t: time.Unix(1_800_000_000, 0)}
	l := New(NewMemory(ck.now), Policy{AccountLimit: 10, IPLimit: 15, Window: 15 * time.Minute})
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		if wait, _, _ := l.Check(ctx, Attempt{Username: "Alice", IP: "192.0.2.1"}); wait != 0 {
			t.Fatalf("attempt %d: throttled, want allowed", i)
		}
		_ = l.Failed(ctx, Attempt{Username: "alice", IP: "192.0.2.1"})
	}
	wait, which, _ := l.Check(ctx, Attempt{Username: "ALICE", IP: "198.51.100.1"})
	if which != "account" || wait != 15*time.Minute {
		t.Fatalf("11th attempt on the account from another IP: got %v %q, want 15m account", wait, which)
	}
	if wait, _, _ := l.Check(ctx, Attempt{Username: "bob", IP: "198.51.100.1"}); wait != 0 {
		t.Fatal("another account is throttled")
	}
	for i := 0; i < 5; i++ {
		_ = l.Failed(ctx, Attempt{Username: fmt.Sprintf("user%d", i), IP: "192.0.2.1"})
	}
	if _, which, _ := l.Check(ctx, Attempt{Username: "carol", IP: "192.0.2.1"}); which != "ip" {
		t.Fatalf("15 failures from one IP: got %q, want ip", which)
	}
	ck.add(15 * time.Minute)
	if wait, _, _ := l.Check(ctx, Attempt{Username: "alice", IP: "192.0.2.1"}); wait != 0 {
		t.Fatal("still throttled after the window: want no lockout beyond it")
	}
	_ = l.Failed(ctx, Attempt{Username: "dave", IP: "203.0.113.1"})
	_ = l.Succeeded(ctx, Attempt{Username: "Dave", IP: "203.0.113.1"})
	if n, _, _ := l.c.Count(ctx, "acct:dave"); n != 0 {
		t.Fatalf("count after success: got %d, want 0", n)
	}
}

// A stranger who uses up an account's limit does not lock out a browser
// that logged in before: its device counts on its own, and its success
// leaves the account's count (the stranger's) alone.
func TestDeviceCountsApart(t *testing.T) {
	ck := &clock{t: time.Unix(1_800_000_000, 0)}
	l := New(NewMemory(ck.now), Policy{AccountLimit: 3, IPLimit: 100, Window: 15 * time.Minute})
	ctx := context.Background()
	stranger := Attempt{Username: "alice", IP: "203.0.113.66"}
	owner := Attempt{Username: "Alice", IP: "192.0.2.10", Device: "dev-1"}
	for range 3 {
		_ = l.Failed(ctx, stranger)
	}
	cases := []struct {
		name  string
		a     Attempt
		which string
	}{
		{"stranger, over the account limit", stranger, "account"},
		{"owner without the device cookie", Attempt{Username: "alice", IP: "192.0.2.10"}, "account"},
		{"owner's known device", owner, ""},
		{"another device id", Attempt{Username: "alice", IP: "192.0.2.10", Device: "dev-2"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, which, _ := l.Check(ctx, tc.a); which != tc.which {
				t.Fatalf("got %q, want %q", which, tc.which)
			}
		})
	}
	for range 3 { // a stolen device id gets no more guesses than the account
		_ = l.Failed(ctx, owner)
	}
	if _, which, _ := l.Check(ctx, owner); which != "device" {
		t.Fatalf("device over its own limit: got %q, want device", which)
	}
	_ = l.Succeeded(ctx, Attempt{Username: "alice", IP: "192.0.2.10", Device: "dev-2"})
	if _, which, _ := l.Check(ctx, stranger); which != "account" {
		t.Fatalf("after the owner's success on a device, the stranger: got %q, want still account", which)
	}
}

func TestCounterRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	c := NewRedis(rdb, "t:")
	ctx := context.Background()
	for i := int64(1); i <= 3; i++ {
		if n, err := c.Add(ctx, "k", 300*time.Millisecond); err != nil || n != i {
			t.Fatalf("Add %d: got %d %v", i, n, err)
		}
	}
	n, left, err := c.Count(ctx, "k")
	if err != nil || n != 3 || left <= 0 || left > 300*time.Millisecond {
		t.Fatalf("Count: got %d %v %v, want 3 within the window", n, left, err)
	}
	time.Sleep(400 * time.Millisecond)
	if n, _, _ := c.Count(ctx, "k"); n != 0 {
		t.Fatalf("Count after the window: got %d, want 0 (expired)", n)
	}
	_, _ = c.Add(ctx, "k", time.Minute)
	_ = c.Reset(ctx, "k")
	if n, _, _ := c.Count(ctx, "k"); n != 0 {
		t.Fatalf("Count after Reset: got %d", n)
	}
	// Concurrent adds from many instances are all counted.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = c.Add(ctx, "c", time.Minute) }()
	}
	wg.Wait()
	if n, _, _ := c.Count(ctx, "c"); n != 50 {
		t.Fatalf("after 50 concurrent adds: got %d", n)
	}
	srv.Kill()
	if _, _, err := c.Count(ctx, "k"); err == nil {
		t.Fatal("Count with Redis down: got nil error")
	}
}

func TestMemoryBounded(t *testing.T) {
	m := NewMemory(nil)
	ctx := context.Background()
	for i := 0; i < maxMemoryKeys+10; i++ {
		_, _ = m.Add(ctx, fmt.Sprint(i), time.Minute)
	}
	if len(m.keys) > maxMemoryKeys {
		t.Fatalf("keys: got %d, want at most %d", len(m.keys), maxMemoryKeys)
	}
}

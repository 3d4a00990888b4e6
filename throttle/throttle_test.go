package throttle

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
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

// fail makes an attempt that fails its password check: Begin alone.
func fail(t *testing.T, l *Limiter, a Attempt) *Ticket {
	t.Helper()
	tk, wait, which, err := l.Begin(context.Background(), a)
	if err != nil || wait != 0 || tk == nil {
		t.Fatalf("Begin(%+v): got %v %q %v, want allowed", a, wait, which, err)
	}
	return tk
}

func count(c Counter, key string) int64 {
	m := c.(*Memory)
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.keys[key]; ok && m.now().Before(w.end) {
		return w.n
	}
	return 0
}

func TestLimiterMemory(t *testing.T) {
	ck := &clock{t: time.Unix(1_800_000_000, 0)}
	l := New(NewMemory(ck.now), Policy{AccountLimit: 10, IPLimit: 15, Window: 15 * time.Minute})
	ctx := context.Background()
	for range 10 {
		fail(t, l, Attempt{Username: "Alice", IP: "192.0.2.1"})
	}
	tk, wait, which, _ := l.Begin(ctx, Attempt{Username: "ALICE", IP: "198.51.100.1"})
	if which != "account" || wait != 15*time.Minute || tk != nil {
		t.Fatalf("11th attempt on the account from another IP: got %v %q, want 15m account", wait, which)
	}
	if n := count(l.c, "ip:198.51.100.1"); n != 0 {
		t.Fatalf("a refused attempt counted on its IP: got %d, want 0", n)
	}
	if n := count(l.c, "acct:alice"); n != 10 {
		t.Fatalf("a refused attempt counted on the account: got %d, want 10", n)
	}
	fail(t, l, Attempt{Username: "bob", IP: "198.51.100.1"})
	for i := range 5 {
		fail(t, l, Attempt{Username: fmt.Sprintf("user%d", i), IP: "192.0.2.1"})
	}
	if _, _, which, _ := l.Begin(ctx, Attempt{Username: "carol", IP: "192.0.2.1"}); which != "ip" {
		t.Fatalf("16th attempt from one IP: got %q, want ip", which)
	}
	if n := count(l.c, "acct:carol"); n != 0 {
		t.Fatalf("an attempt refused on its IP counted on the account: got %d, want 0", n)
	}
	ck.add(15 * time.Minute)
	if _, wait, _, _ := l.Begin(ctx, Attempt{Username: "alice", IP: "192.0.2.1"}); wait != 0 {
		t.Fatal("still throttled after the window: want no lockout beyond it")
	}
	dave := Attempt{Username: "dave", IP: "203.0.113.1"}
	fail(t, l, dave)
	fail(t, l, dave)
	_ = fail(t, l, Attempt{Username: "Dave", IP: "203.0.113.1"}).Succeeded(ctx)
	if got := [2]int64{count(l.c, "acct:dave"), count(l.c, "ip:203.0.113.1")}; got != [2]int64{0, 2} {
		t.Fatalf("account and IP counts after two failures and a success: got %v, want [0 2]", got)
	}
	_ = fail(t, l, dave).Abandon(ctx)
	if got := [2]int64{count(l.c, "acct:dave"), count(l.c, "ip:203.0.113.1")}; got != [2]int64{0, 2} {
		t.Fatalf("counts after an abandoned attempt: got %v, want [0 2]", got)
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
		fail(t, l, stranger)
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
			tk, _, which, _ := l.Begin(ctx, tc.a)
			if which != tc.which {
				t.Fatalf("got %q, want %q", which, tc.which)
			}
			if tk != nil {
				_ = tk.Abandon(ctx)
			}
		})
	}
	for range 3 { // a stolen device id gets no more guesses than the account
		fail(t, l, owner)
	}
	if _, _, which, _ := l.Begin(ctx, owner); which != "device" {
		t.Fatalf("device over its own limit: got %q, want device", which)
	}
	dev2 := Attempt{Username: "alice", IP: "192.0.2.10", Device: "dev-2"}
	fail(t, l, dev2)
	_ = fail(t, l, dev2).Succeeded(ctx)
	if _, _, which, _ := l.Begin(ctx, stranger); which != "account" {
		t.Fatalf("after the owner's success on a device, the stranger: got %q, want still account", which)
	}
}

// Guards against a late Undo erasing a count of the next window: an
// attempt counted just before its window ends and taken back (success,
// abandon) just after must not give the next window an extra guess.
func TestUndoStaysInItsWindow(t *testing.T) {
	ctx := context.Background()
	t.Run("memory", func(t *testing.T) {
		ck := &clock{t: time.Unix(1_800_000_000, 0)}
		c := NewMemory(ck.now)
		old, _ := c.Add(ctx, "k", time.Minute)
		ck.add(time.Minute)
		_, _ = c.Add(ctx, "k", time.Minute)
		_ = c.Undo(ctx, "k", old.Window)
		if got, _ := c.Add(ctx, "k", time.Minute); got.N != 2 {
			t.Fatalf("next window after a late Undo: got %d, want 2", got.N)
		}
		// A window started after a Reset at the same instant is another
		// window too.
		before, _ := c.Add(ctx, "r", time.Minute)
		_ = c.Reset(ctx, "r")
		_, _ = c.Add(ctx, "r", time.Minute)
		_ = c.Undo(ctx, "r", before.Window)
		if got, _ := c.Add(ctx, "r", time.Minute); got.N != 2 {
			t.Fatalf("window after a Reset at the same instant, after an Undo for the old one: got %d, want 2", got.N)
		}
	})
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

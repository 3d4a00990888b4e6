package throttle

import (
	"context"
	"fmt"
	"net/netip"
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

// Guards against issue 11 row 6: the memory counter evicted the window
// ending soonest when full, so after 100k filler keys the targeted
// account's 11th guess was allowed. It now never forgets a live window:
// when full, a new key is refused with a wait, and windows that have ended
// are reclaimed.
func TestMemoryFullKeepsLiveWindows(t *testing.T) {
	ctx := context.Background()
	ck := &clock{t: time.Unix(1_800_000_000, 0)}
	m := NewMemory(ck.now)
	l := New(m, Policy{AccountLimit: 10, IPLimit: 100, Window: 15 * time.Minute})
	for range 10 {
		fail(t, l, Attempt{Username: "alice", IP: "203.0.113.66"})
	}
	ck.add(time.Minute)
	for i := 0; len(m.keys) < DefaultMemoryKeys; i++ {
		if _, err := m.Add(ctx, fmt.Sprint("filler", i), 15*time.Minute); err != nil {
			t.Fatalf("filler %d with %d keys held: %v", i, len(m.keys), err)
		}
	}
	if _, err := m.Add(ctx, "one more", time.Minute); err == nil {
		t.Fatalf("Add of a new key when full: got no error, want a *FullError")
	}
	cases := []struct {
		name  string
		a     Attempt
		which string
		wait  time.Duration
	}{
		{"the targeted account's 11th guess", Attempt{Username: "alice", IP: "198.51.100.1"}, "account", 14 * time.Minute},
		{"a new account from a new IP", Attempt{Username: "bob", IP: "198.51.100.2"}, "full", 14 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tk, wait, which, err := l.Begin(ctx, tc.a)
			if err != nil || tk != nil || which != tc.which || wait != tc.wait {
				t.Fatalf("got ticket %v, wait %v, which %q, err %v; want refused %v %q", tk != nil, wait, which, err, tc.wait, tc.which)
			}
		})
	}
	if n := count(m, "acct:alice"); n != 10 {
		t.Fatalf("the targeted account's count when full: got %d, want 10", n)
	}
	ck.add(14 * time.Minute) // alice's window ends, the fillers' run 1m more
	if _, wait, which, _ := l.Begin(ctx, Attempt{Username: "bob", IP: "198.51.100.2"}); wait != 0 {
		t.Fatalf("a new key once a window ended: got refused %v %q, want allowed (ended windows are reclaimed)", wait, which)
	}
	if len(m.keys) > DefaultMemoryKeys {
		t.Fatalf("keys: got %d, want at most %d", len(m.keys), DefaultMemoryKeys)
	}
}

// Guards against issue 11 row 2 (IPv6): the per-IP limit was keyed on the
// full address, so 200 of 200 attempts from 200 addresses of one /64
// passed a limit of 5. IPv6 is now keyed by its /64, IPv4-mapped IPv6 as
// IPv4.
func TestIPKeyedByNetwork(t *testing.T) {
	ctx := context.Background()
	t.Run("200 addresses of one /64", func(t *testing.T) {
		l := New(NewMemory(nil), Policy{AccountLimit: 1000, IPLimit: 5, Window: time.Minute})
		allowed := 0
		for i := range 200 {
			a := Attempt{Username: fmt.Sprint("user", i), IP: fmt.Sprintf("2001:db8:1:2:%x:%x::%x", i, i*7, i+1)}
			if tk, _, _, _ := l.Begin(ctx, a); tk != nil {
				allowed++
			}
		}
		if allowed != 5 {
			t.Fatalf("200 attempts from one /64 with a per-IP limit of 5: got %d allowed, want 5", allowed)
		}
		if _, _, which, _ := l.Begin(ctx, Attempt{Username: "x", IP: "2001:db8:1:3::1"}); which != "" {
			t.Fatalf("another /64: got refused (%q), want allowed", which)
		}
	})
	same := [][2]string{
		{"2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff"},
		{"2001:DB8:0:0:1::1", "2001:db8::2"},
		{"fe80::1%eth0", "fe80::2"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
	}
	for _, p := range same {
		if a, b := ipKey(p[0]), ipKey(p[1]); a != b {
			t.Errorf("ipKey(%q) = %q, ipKey(%q) = %q: want one key", p[0], a, p[1], b)
		}
	}
	apart := [][2]string{
		{"2001:db8:0:0::1", "2001:db8:0:1::1"},
		{"192.0.2.1", "192.0.2.2"},
		{"::ffff:192.0.2.1", "::192.0.2.1"},
	}
	for _, p := range apart {
		if a, b := ipKey(p[0]), ipKey(p[1]); a == b {
			t.Errorf("ipKey(%q) = ipKey(%q) = %q: want two keys", p[0], p[1], a)
		}
	}
}

// Guards against issue 11 row 2 (device cookies): attempts with a verified
// device cookie counted against the IP budget, so strangers behind one NAT
// could lock out the known devices behind it. A device attempt now has its
// own budget and neither counts against nor is refused by the IP's.
func TestDeviceApartFromIP(t *testing.T) {
	ctx := context.Background()
	l := New(NewMemory(nil), Policy{AccountLimit: 10, IPLimit: 5, DeviceLimit: 3, Window: time.Minute})
	const nat = "192.0.2.1"
	for i := range 5 {
		fail(t, l, Attempt{Username: fmt.Sprint("victim", i), IP: nat})
	}
	if _, _, which, _ := l.Begin(ctx, Attempt{Username: "alice", IP: nat}); which != "ip" {
		t.Fatalf("a stranger past the IP budget: got %q, want ip", which)
	}
	owner := Attempt{Username: "alice", IP: nat, Device: "dev-1"}
	for i := range 3 {
		tk, wait, which, err := l.Begin(ctx, owner)
		if err != nil || tk == nil {
			t.Fatalf("known device, attempt %d, with the IP budget used up: got %v %q %v, want allowed", i+1, wait, which, err)
		}
	}
	if _, _, which, _ := l.Begin(ctx, owner); which != "device" {
		t.Fatalf("known device past its own limit: got %q, want device", which)
	}
	if n := count(l.c, ipKey(nat)); n != 5 {
		t.Fatalf("the IP's count after device attempts: got %d, want 5 (device attempts do not count on it)", n)
	}
	tk := fail(t, l, Attempt{Username: "bob", IP: "198.51.100.1", Device: "dev-2"})
	if err := tk.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(l.c, "acct:bob|dev:dev-2"); n != 0 {
		t.Fatalf("the device's count after a success: got %d, want 0", n)
	}
}

func FuzzIPKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "fe80::1%eth0", "", "not an ip", "[::1]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := ipKey(s)
		a, err := netip.ParseAddr(s)
		if err != nil {
			if k != "ip:"+s {
				t.Fatalf("ipKey(%q) = %q, want the string as it is", s, k)
			}
			return
		}
		a = a.Unmap()
		if a.Is4() {
			if k != "ip:"+a.String() {
				t.Fatalf("ipKey(%q) = %q, want the IPv4 address", s, k)
			}
			return
		}
		// Any address of the /64 gets the same key.
		b := a.WithZone("").As16()
		for i := 8; i < 16; i++ {
			b[i] ^= 0xa5
		}
		o := netip.AddrFrom16(b)
		if o.Is4In6() { // ::ffff:0:0/96 lies in ::/64 but counts as IPv4
			return
		}
		if other := o.String(); ipKey(other) != k {
			t.Fatalf("ipKey(%q) = %q, ipKey(%q) = %q: want one key for one /64", s, k, other, ipKey(other))
		}
	})
}

package passwords

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fast keeps tests quick; Default is exercised by TestDefault*, TestDummy
// and the benchmark.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasherWith(fast, 2)
	phc, err := h.Hash(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(phc, want) {
		t.Fatalf("PHC string: got %q, want the prefix %q", phc, want)
	}
	if strings.Contains(phc, "correct-horse") {
		t.Fatal("hash contains the password")
	}
	if other, _ := h.Hash(ctx, "correct-horse"); other == phc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	long := strings.Repeat("x", MaxLength)
	longPHC, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, password, phc string
		ok                  bool
	}{
		{"right password", "correct-horse", phc, true},
		{"wrong last byte", "correct-horsf", phc, false},
		{"prefix", "correct-hors", phc, false},
		{"longer", "correct-horse!", phc, false},
		{"case differs", "Correct-horse", phc, false},
		{"empty", "", phc, false},
		{"MaxLength password", long, longPHC, true},
		{"MaxLength+1 sharing the first MaxLength bytes", long + "x", longPHC, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Computations()
			ok, rehash, err := h.Verify(ctx, tc.password, tc.phc)
			if err != nil || ok != tc.ok || rehash {
				t.Fatalf("Verify: got (%v, %v, %v), want (%v, false, nil)", ok, rehash, err, tc.ok)
			}
			if n := h.Computations() - before; n != 1 {
				t.Fatalf("Verify ran %d computations, want 1", n)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old, err := NewHasherWith(fast, 1).Hash(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	change := []struct {
		name   string
		modify func(*Params)
		want   bool
	}{
		{"same parameters", func(*Params) {}, false},
		{"more memory", func(p *Params) { p.Memory *= 2 }, true},
		{"less memory", func(p *Params) { p.Memory /= 2 }, true},
		{"more passes", func(p *Params) { p.Time++ }, true},
		{"more lanes", func(p *Params) { p.Threads++ }, true},
		{"longer salt", func(p *Params) { p.SaltLen = 32 }, true},
		{"longer key", func(p *Params) { p.KeyLen = 64 }, true},
	}
	for _, tc := range change {
		t.Run(tc.name, func(t *testing.T) {
			p := fast
			tc.modify(&p)
			ok, rehash, err := NewHasherWith(p, 1).Verify(ctx, "correct-horse", old)
			if err != nil || !ok || rehash != tc.want {
				t.Fatalf("Verify: got (%v, %v, %v), want (true, %v, nil)", ok, rehash, err, tc.want)
			}
		})
	}
}

func TestDefaultMeetsOWASP(t *testing.T) {
	// OWASP Password Storage Cheat Sheet: argon2id with m >= 19 MiB, t >= 2, p >= 1.
	if Default.Memory < 19*1024 || Default.Time < 2 || Default.Threads < 1 || Default.SaltLen < 16 || Default.KeyLen < 32 {
		t.Fatalf("Default %+v is below OWASP's minimum (m=19456, t=2, p=1) or a 16-byte salt / 32-byte key", Default)
	}
	h := NewHasher()
	if h.Params() != Default {
		t.Fatalf("NewHasher params: got %+v, want %+v", h.Params(), Default)
	}
	if h.Concurrency() < 2 {
		t.Fatalf("NewHasher concurrency: got %d, want at least 2", h.Concurrency())
	}
	phc, err := h.Hash(context.Background(), "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(phc, want) || len(phc) != len(want)+22+1+43 {
		t.Fatalf("default PHC: got %q, want %q + 22 salt + $ + 43 key characters", phc, want)
	}
}

func TestHashLengthLimits(t *testing.T) {
	h := NewHasherWith(fast, 1)
	cases := []struct {
		name     string
		password string
		want     error
	}{
		{"empty", "", ErrPasswordTooShort},
		{"7 bytes", "1234567", ErrPasswordTooShort},
		{"8 bytes", "12345678", nil},
		{"8 bytes of UTF-8, 4 runes", "éééé", nil},
		{"MaxLength", strings.Repeat("x", MaxLength), nil},
		{"MaxLength+1", strings.Repeat("x", MaxLength+1), ErrPasswordTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Computations()
			phc, err := h.Hash(context.Background(), tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Hash(%d bytes): got %v, want %v", len(tc.password), err, tc.want)
			}
			if tc.want != nil && (phc != "" || h.Computations() != before) {
				t.Fatalf("refused password: got %q and %d computations, want neither", phc, h.Computations()-before)
			}
			if tc.want != nil && strings.Contains(err.Error(), tc.password) && tc.password != "" {
				t.Fatalf("error %q contains the password", err)
			}
		})
	}
}

func TestNewHasherWithPanics(t *testing.T) {
	cases := []struct {
		name        string
		modify      func(*Params)
		concurrency int
	}{
		{"zero threads", func(p *Params) { p.Threads = 0 }, 1},
		{"memory below 8 per lane", func(p *Params) { p.Memory, p.Threads = 15, 2 }, 1},
		{"memory over 1 GiB", func(p *Params) { p.Memory = MaxMemory + 1 }, 1},
		{"zero time", func(p *Params) { p.Time = 0 }, 1},
		{"short salt", func(p *Params) { p.SaltLen = 4 }, 1},
		{"short key", func(p *Params) { p.KeyLen = 8 }, 1},
		{"zero concurrency", func(*Params) {}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "passwords: ") {
					t.Fatalf("got panic %v, want one starting with \"passwords: \"", r)
				}
			}()
			p := fast
			tc.modify(&p)
			NewHasherWith(p, tc.concurrency)
		})
	}
}

func TestConcurrencyBound(t *testing.T) {
	const bound = 2
	h := NewHasherWith(Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, bound)

	// With every slot taken, callers wait and give up when ctx ends.
	dummy, err := h.Hash(context.Background(), "another-password")
	if err != nil {
		t.Fatal(err)
	}
	base := h.Computations()
	for range bound {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "correct-horse"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with every slot taken: got %v, want a deadline error", err)
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := h.Verify(canceled, "correct-horse", dummy); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with every slot taken: got %v, want context.Canceled", err)
	}
	if err := h.Dummy(canceled, "correct-horse"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dummy with every slot taken: got %v, want context.Canceled", err)
	}
	if n := h.Computations() - base; n != 0 {
		t.Fatalf("computations while every slot was taken: got %d, want 0", n)
	}
	// The gauges behind the server's metrics: a caller in line shows in
	// Waiting until it gives up.
	if got := h.InFlight(); got != bound {
		t.Fatalf("InFlight with every slot taken: got %d, want %d", got, bound)
	}
	release := make(chan struct{})
	gaveUp := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-release; cancel() }()
		_, err := h.Hash(ctx, "correct-horse")
		gaveUp <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); h.Waiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting with one caller in line: got %d, want 1", h.Waiting())
		}
	}
	close(release)
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller in line after cancel: got %v, want context.Canceled", err)
	}
	if got := h.Waiting(); got != 0 {
		t.Fatalf("Waiting after the caller gave up: got %d, want 0", got)
	}
	for range bound {
		<-h.slots
	}
	// An ended context is refused even when a slot is free.
	for range 20 {
		if _, err := h.Hash(canceled, "correct-horse"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash with an ended context and a free slot: got %v, want context.Canceled", err)
		}
	}
	if n := h.Computations() - base; n != 0 {
		t.Fatalf("computations with an ended context: got %d, want 0", n)
	}

	// Many callers at once: never more than bound inside a slot. Each
	// computation lingers in its slot so that callers overlap.
	var mu sync.Mutex
	inside, peak := 0, 0
	testHookInSlot = func() {
		mu.Lock()
		inside++
		peak = max(peak, inside)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inside--
		mu.Unlock()
	}
	defer func() { testHookInSlot = nil }()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "correct-horse"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak != bound {
		t.Fatalf("peak concurrent computations: got %d, want %d (the bound, reached)", peak, bound)
	}
	if n := h.Computations() - base; n != 16 {
		t.Fatalf("computations: got %d, want 16", n)
	}
}

func TestDummy(t *testing.T) {
	ctx := context.Background()
	h := NewHasher()
	var seen []Params
	testHookParams = func(p Params) { seen = append(seen, p) }
	defer func() { testHookParams = nil }()
	for _, pw := range []string{"", "correct-horse", strings.Repeat("x", MaxLength+10)} {
		seen = nil
		before := h.Computations()
		if err := h.Dummy(ctx, pw); err != nil {
			t.Fatalf("Dummy: %v", err)
		}
		if n := h.Computations() - before; n != 1 {
			t.Fatalf("Dummy(%d bytes) ran %d computations, want 1 (as many as Verify)", len(pw), n)
		}
		if len(seen) != 1 || seen[0] != h.Params() {
			t.Fatalf("Dummy before any Verify worked with %+v, want the Hasher's %+v", seen, h.Params())
		}
	}
	if sets, total := h.stored.size(); sets != 0 || total != 0 {
		t.Fatalf("Dummy counted itself as a stored hash: %d set(s), total %d; want none", sets, total)
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.Dummy(ctxDone, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dummy with an ended context: got %v, want context.Canceled", err)
	}
}

// TestDummyFollowsStoredParams: issue 11 row 9. After the parameters change,
// the stored hashes keep the old ones until their next login; the dummy
// work for unknown users must use the parameters of the stored hashes being
// verified, not the Hasher's new ones.
func TestDummyFollowsStoredParams(t *testing.T) {
	ctx := context.Background()
	old := Params{Memory: 128, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	cur := Params{Memory: 256, Time: 2, Threads: 2, SaltLen: 24, KeyLen: 48}
	mk := func(p Params) string {
		phc, err := NewHasherWith(p, 1).Hash(ctx, "correct-horse")
		if err != nil {
			t.Fatal(err)
		}
		return phc
	}
	oldHash, curHash := mk(old), mk(cur)
	h := NewHasherWith(cur, 2)
	verify := func(phc string, n int) {
		for range n {
			if _, _, err := h.Verify(ctx, "wrong-password", phc); err != nil {
				t.Fatal(err)
			}
		}
	}
	var seen []Params
	testHookParams = func(p Params) { seen = append(seen, p) }
	defer func() { testHookParams = nil }()
	steps := []struct {
		name   string
		verify func()
		want   Params
	}{
		{"no verification yet: the Hasher's", func() {}, cur},
		{"old-parameter hashes verified", func() { verify(oldHash, 3) }, old},
		{"one current hash among them", func() { verify(curHash, 1) }, old},
		{"a tie goes to the Hasher's", func() { verify(curHash, 2) }, cur},
		{"current hashes now most common", func() { verify(curHash, 5) }, cur},
		{"malformed hashes do not count", func() {
			for range 20 {
				if _, _, err := h.Verify(ctx, "pw", "$argon2id$v=19$m=1,t=1,p=1$x$y"); !errors.Is(err, ErrMalformedHash) {
					t.Fatalf("got %v, want ErrMalformedHash", err)
				}
			}
			verify(oldHash, 6)
		}, old},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.verify()
			if got := h.DummyParams(); got != st.want {
				t.Fatalf("DummyParams: got %+v, want %+v", got, st.want)
			}
			seen = nil
			if err := h.Dummy(ctx, "unknown-user-pw"); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 1 || seen[0] != st.want {
				t.Fatalf("Dummy worked with %+v, want one computation with %+v", seen, st.want)
			}
		})
	}
}

// TestCountStored: a directory can count its stored hashes at start, so the
// dummy work matches them before any login (issue 11 row 9); malformed
// hashes are refused and not counted, and nothing is hashed.
func TestCountStored(t *testing.T) {
	ctx := context.Background()
	old := Params{Memory: 128, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	oldHash, err := NewHasherWith(old, 1).Hash(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasherWith(fast, 1)
	if err := h.CountStored("$argon2id$v=19$m=1,t=1,p=1$x$y"); !errors.Is(err, ErrMalformedHash) {
		t.Fatalf("CountStored(malformed): got %v, want ErrMalformedHash", err)
	}
	if got := h.DummyParams(); got != fast {
		t.Fatalf("after a malformed hash: got %+v, want the Hasher's %+v", got, fast)
	}
	for range 3 {
		if err := h.CountStored(oldHash); err != nil {
			t.Fatalf("CountStored: got %v, want nil", err)
		}
	}
	if n := h.Computations(); n != 0 {
		t.Fatalf("CountStored ran %d computations, want 0", n)
	}
	if got := h.DummyParams(); got != old {
		t.Fatalf("after counting old-parameter hashes: got %+v, want %+v", got, old)
	}
}

// TestTallyBounded: the tally of stored parameters holds at most maxTallied
// sets, follows recent verifications (counts are halved at tallyWindow), and
// lets a new set in when full.
func TestTallyBounded(t *testing.T) {
	def := Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	p := func(i int) Params {
		return Params{Memory: 64, Time: uint32(2 + i), Threads: 1, SaltLen: 16, KeyLen: 32}
	}
	var tl tally
	for i := range 3 * maxTallied {
		tl.add(p(i))
	}
	if sets, _ := tl.size(); sets != maxTallied {
		t.Fatalf("after %d distinct sets: got %d tallied, want %d", 3*maxTallied, sets, maxTallied)
	}
	if got, want := tl.mode(def), p(3*maxTallied-1); got != want {
		t.Fatalf("all counted once: got %+v, want the costliest %+v", got, want)
	}
	for range tallyWindow * 3 {
		tl.add(p(100))
	}
	if sets, total := tl.size(); total >= tallyWindow || sets > maxTallied {
		t.Fatalf("after %d verifications: got %d set(s), total %d; want at most %d sets and a total below %d", tallyWindow*3, sets, total, maxTallied, tallyWindow)
	}
	for range tallyWindow {
		tl.add(p(200))
	}
	if got, want := tl.mode(def), p(200); got != want {
		t.Fatalf("after the mix changed: got %+v, want the recent %+v", got, want)
	}
	var empty tally
	if got := empty.mode(def); got != def {
		t.Fatalf("empty tally: got %+v, want the default %+v", got, def)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct-horse"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct-horse"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The length errors reach people (the CLI, the server's answers): a
// sentence with what to do, no package prefix.
func TestLengthErrorWording(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{ErrPasswordTooShort, "the password is too short: use at least 8 bytes"},
		{ErrPasswordTooLong, "the password is too long: use at most 1024 bytes"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

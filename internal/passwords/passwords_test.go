package passwords

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fast keeps tests quick; Default is exercised by TestDefaultMeetsOWASP and
// the benchmark.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasherWith(fast, 2)
	phc, err := h.Hash(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string: got %q, want the argon2id prefix with m=64,t=1,p=1", phc)
	}
	if strings.Contains(phc, "correct-horse") {
		t.Fatal("hash contains the password")
	}
	other, _ := h.Hash(ctx, "correct-horse")
	if other == phc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	cases := []struct {
		name     string
		password string
		ok       bool
	}{
		{"right password", "correct-horse", true},
		{"wrong password", "correct-horsf", false},
		{"prefix", "correct-hors", false},
		{"empty", "", false},
		{"too long", strings.Repeat("x", MaxLength+1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tc.password, phc)
			if err != nil || ok != tc.ok || rehash {
				t.Fatalf("Verify: got (%v, %v, %v), want (%v, false, nil)", ok, rehash, err, tc.ok)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old, _ := NewHasherWith(fast, 1).Hash(ctx, "correct-horse")
	stronger := fast
	stronger.Time = 2
	ok, rehash, err := NewHasherWith(stronger, 1).Verify(ctx, "correct-horse", old)
	if err != nil || !ok || !rehash {
		t.Fatalf("Verify with raised parameters: got (%v, %v, %v), want (true, true, nil)", ok, rehash, err)
	}
}

func TestDefaultMeetsOWASP(t *testing.T) {
	// OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p = 1.
	if Default.Memory < 19*1024 || Default.Time < 2 || Default.Threads < 1 || Default.SaltLen < 16 {
		t.Fatalf("Default %+v is below OWASP's minimum (m=19456, t=2, p=1, 16-byte salt)", Default)
	}
}

func TestHashLengthLimits(t *testing.T) {
	h := NewHasherWith(fast, 1)
	cases := []struct {
		password string
		want     error
	}{
		{"short", ErrPasswordTooShort},
		{strings.Repeat("x", MaxLength+1), ErrPasswordTooLong},
		{strings.Repeat("x", MinLength), nil},
	}
	for _, tc := range cases {
		if _, err := h.Hash(context.Background(), tc.password); !errors.Is(err, tc.want) {
			t.Errorf("Hash(%d bytes): got %v, want %v", len(tc.password), err, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := NewHasherWith(fast, 1).Hash(context.Background(), "correct-horse")
	parts := strings.Split(good, "$")
	cases := map[string]string{
		"empty":          "",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":     strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=4294967295", 1),
		"zero time":      strings.Replace(good, "t=1", "t=0", 1),
		"many threads":   strings.Replace(good, "p=1", "p=255", 1),
		"leading zero":   strings.Replace(good, "m=64", "m=064", 1),
		"missing field":  strings.Join(parts[:5], "$"),
		"bad salt":       strings.Replace(good, parts[4], "!!!", 1),
		"short key":      strings.Replace(good, parts[5], "AAAA", 1),
		"too long":       good + strings.Repeat("A", 600),
		"reordered":      strings.Replace(good, "m=64,t=1", "t=1,m=64", 1),
		"padding in b64": good + "==",
	}
	for name, phc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := Parse(phc); !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Parse: got %v, want ErrMalformedHash", err)
			}
			if _, _, err := NewHasherWith(fast, 1).Verify(context.Background(), "correct-horse", phc); err == nil {
				t.Fatal("Verify accepted a malformed hash")
			}
		})
	}
}

func TestConcurrencyBound(t *testing.T) {
	h := NewHasherWith(fast, 1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "correct-horse"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with every slot taken: got %v, want a deadline error", err)
	}
	h.release()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "correct-horse"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestDummyCostsAVerify(t *testing.T) {
	h := NewHasher()
	if err := h.Dummy(context.Background(), "anything"); err != nil {
		t.Fatalf("Dummy: %v", err)
	}
}

func FuzzParsePHC(f *testing.F) {
	good, _ := NewHasherWith(fast, 1).Hash(context.Background(), "correct-horse")
	for _, s := range []string{good, "", "$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "$$$$$", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := Parse(s)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || len(salt) > maxSaltLen || len(key) > maxKeyLen {
			t.Fatalf("Parse accepted parameters over the limits: %+v", p)
		}
		if again := format(p, salt, key); again != s {
			t.Fatalf("accepted PHC string does not round-trip: %q -> %q", s, again)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct-horse"); err != nil {
			b.Fatal(err)
		}
	}
}

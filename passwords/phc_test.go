package passwords

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p, salt, key, err := Parse("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	want := Params{Memory: 65536, Time: 3, Threads: 4, SaltLen: 8, KeyLen: 16}
	if err != nil || p != want || string(salt) != "saltsalt" || string(key) != "hashhashhashhash" {
		t.Fatalf("got %+v %q %q %v, want %+v saltsalt hashhashhashhash", p, salt, key, err, want)
	}
}

func TestParseRejects(t *testing.T) {
	good, err := NewHasherWith(fast, 1).Hash(context.Background(), "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	cases := []struct{ name, phc string }{
		{"empty", ""},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"argon2d", strings.Replace(good, "argon2id", "argon2d", 1)},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"version 16", strings.Replace(good, "v=19", "v=16", 1)},
		{"no version", strings.Replace(good, "$v=19", "", 1)},
		{"memory over 1 GiB", strings.Replace(good, "m=64", "m=1048577", 1)},
		{"memory over uint32", strings.Replace(good, "m=64", "m=4294967296", 1)},
		{"memory below 8 per lane", strings.Replace(good, "m=64,t=1,p=1", "m=15,t=1,p=2", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"time over 100", strings.Replace(good, "t=1", "t=101", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"threads over 64", strings.Replace(good, "p=1", "p=65", 1)},
		{"threads over uint8", strings.Replace(good, "p=1", "p=257", 1)},
		{"leading zero", strings.Replace(good, "m=64", "m=064", 1)},
		{"plus sign", strings.Replace(good, "m=64", "m=+64", 1)},
		{"negative", strings.Replace(good, "t=1", "t=-1", 1)},
		{"empty value", strings.Replace(good, "t=1", "t=", 1)},
		{"reordered", strings.Replace(good, "m=64,t=1", "t=1,m=64", 1)},
		{"extra parameter", strings.Replace(good, "p=1", "p=1,keyid=x", 1)},
		{"spaces", strings.Replace(good, "m=64", "m= 64", 1)},
		{"missing field", strings.Join(parts[:5], "$")},
		{"extra field", good + "$x"},
		{"bad salt", strings.Replace(good, parts[4], "!!!", 1)},
		{"salt under 8 bytes", strings.Replace(good, parts[4], "AAAAAAAA", 1)},
		{"salt over 64 bytes", strings.Replace(good, parts[4], strings.Repeat("A", 88), 1)},
		{"key under 16 bytes", strings.Replace(good, parts[5], "AAAA", 1)},
		{"key over 128 bytes", strings.Replace(good, parts[5], strings.Repeat("A", 176), 1)},
		{"padding in base64", good + "=="},
		{"URL-safe base64", strings.Replace(good, parts[4], "-_-_-_-_-_-_-_-_-_-_-w", 1)},
		{"non-canonical trailing bits", strings.Replace(good, parts[4], parts[4][:21]+"B", 1)},
		{"newline in salt", strings.Replace(good, parts[4], parts[4][:4]+"\n"+parts[4][4:], 1)},
		{"carriage return in key", strings.Replace(good, parts[5], parts[5][:4]+"\r"+parts[5][4:], 1)},
		{"too long", good + strings.Repeat("A", 600)},
	}
	h := NewHasherWith(fast, 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.phc == good {
				t.Fatal("test case did not change the hash")
			}
			p, salt, key, err := Parse(tc.phc)
			if !errors.Is(err, ErrMalformedHash) || salt != nil || key != nil || p != (Params{}) {
				t.Fatalf("Parse: got %+v %q %q %v, want only ErrMalformedHash", p, salt, key, err)
			}
			ok, rehash, err := h.Verify(context.Background(), "correct-horse", tc.phc)
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Verify: got (%v, %v, %v), want (false, false, ErrMalformedHash)", ok, rehash, err)
			}
			if tc.phc != "" && strings.Contains(err.Error(), tc.phc) {
				t.Fatalf("error %q contains the hash", err)
			}
		})
	}
	if n := h.Computations(); n != 0 {
		t.Fatalf("malformed hashes cost %d computations, want 0", n)
	}
}

func FuzzParsePHC(f *testing.F) {
	good, _ := NewHasherWith(fast, 1).Hash(context.Background(), "correct-horse")
	for _, s := range []string{
		good, "", "$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "$$$$$",
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=1048576,t=100,p=64$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := Parse(s)
		if err != nil {
			// The sentinel itself, so the error cannot carry the input.
			if err != ErrMalformedHash {
				t.Fatalf("Parse(%q): got error %q, want exactly ErrMalformedHash", s, err)
			}
			return
		}
		if msg := p.valid(); msg != "" {
			t.Fatalf("Parse accepted parameters outside the limits: %s", msg)
		}
		if len(salt) != p.SaltLen || len(key) != p.KeyLen {
			t.Fatalf("lengths: got salt %d key %d, params %+v", len(salt), len(key), p)
		}
		// Exactly one string encodes a hash.
		if again := format(p, salt, key); again != s {
			t.Fatalf("accepted PHC string does not round-trip: %q -> %q", s, again)
		}
	})
}

package tether

import (
	"bytes"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	cur, old := bytes.Repeat([]byte("c"), 32), bytes.Repeat([]byte("o"), 32)
	s := newSigner([][]byte{cur, old})
	tok := newToken()
	v := s.sign(tok)
	if len(v) != encodedLen {
		t.Fatalf("cookie length: got %d, want %d", len(v), encodedLen)
	}
	got, idx, ok := s.verify(v)
	if !ok || idx != 0 || !bytes.Equal(got, tok) {
		t.Fatalf("verify own cookie: got (%x, %d, %v), want (%x, 0, true)", got, idx, ok, tok)
	}
	oldValue := newSigner([][]byte{old}).sign(tok)
	if _, idx, ok := s.verify(oldValue); !ok || idx != 1 {
		t.Fatalf("verify cookie signed by previous secret: got (%d, %v), want (1, true)", idx, ok)
	}
	stranger := newSigner([][]byte{bytes.Repeat([]byte("x"), 32)}).sign(tok)
	if _, _, ok := s.verify(stranger); ok {
		t.Fatal("cookie signed by an unknown secret verified; want rejected")
	}
}

func TestVerifyRejects(t *testing.T) {
	s := newSigner([][]byte{bytes.Repeat([]byte("k"), 32)})
	good := s.sign(newToken())
	dot := strings.IndexByte(good, '.')
	flip := func(v string, i int) string {
		b := []byte(v)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct{ name, value string }{
		{"empty", ""},
		{"token only", good[:dot]},
		{"no dot", strings.Replace(good, ".", "A", 1)},
		{"token bit flipped", flip(good, 3)},
		{"mac bit flipped", flip(good, len(good)-3)},
		{"swapped halves", good[dot+1:] + "." + good[:dot]},
		{"padding added", good + "="},
		{"truncated", good[:len(good)-1]},
		{"express-session style", "s:" + good},
		{"std base64 chars", strings.Replace(good, good[:2], "+/", 1)},
		{"non-ascii", "é" + good[2:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if tok, _, ok := s.verify(c.value); ok {
				t.Fatalf("verify(%q): got ok with token %x, want rejected", c.value, tok)
			}
		})
	}
}

func TestStoreKeyIsNotTheToken(t *testing.T) {
	tok := newToken()
	k := storeKey(tok)
	if len(k) != 64 {
		t.Fatalf("store key length: got %d, want 64 hex digits", len(k))
	}
	if strings.Contains(k, b64.EncodeToString(tok)) || strings.Contains(k, string(tok)) {
		t.Fatal("store key contains the token")
	}
	if newTokenA, newTokenB := newToken(), newToken(); bytes.Equal(newTokenA, newTokenB) {
		t.Fatal("two tokens are equal")
	}
}

// FuzzVerify checks that no input makes verification panic, that only values
// of the signed form verify, and that a verified value round-trips: signing
// the token it yields gives back the same value.
func FuzzVerify(f *testing.F) {
	s := newSigner([][]byte{bytes.Repeat([]byte("f"), 32), bytes.Repeat([]byte("g"), 32)})
	good := s.sign(bytes.Repeat([]byte{7}, TokenBytes))
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	f.Add("")
	f.Add(".")
	f.Add(strings.Repeat("A", encodedLen))
	f.Add("s%3A" + good)
	f.Add(strings.Repeat("é", 40))
	f.Fuzz(func(t *testing.T, v string) {
		tok, idx, ok := s.verify(v)
		if !ok {
			return
		}
		if len(tok) != TokenBytes {
			t.Fatalf("verified token has %d bytes, want %d", len(tok), TokenBytes)
		}
		if idx == 0 && s.sign(tok) != v {
			t.Fatalf("verified value %q does not round-trip: sign gives %q", v, s.sign(tok))
		}
	})
}

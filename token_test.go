package tether

import (
	"bytes"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	cur, old := bytes.Repeat([]byte("c"), 32), bytes.Repeat([]byte("o"), 32)
	s := newSigner([][]byte{cur, old})
	for _, tc := range []struct {
		name string
		rs   []byte
		len  int
	}{
		{"version 1 (token only)", nil, encodedLen},
		{"version 2 (token and renewal secret)", randomBytes(RenewSecretBytes), encodedLen2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := newToken()
			v := s.sign(tok, tc.rs)
			if len(v) != tc.len {
				t.Fatalf("cookie length: got %d, want %d", len(v), tc.len)
			}
			got, rs, idx, ok := s.verify(v)
			if !ok || idx != 0 || !bytes.Equal(got, tok) || !bytes.Equal(rs, tc.rs) || (rs == nil) != (tc.rs == nil) {
				t.Fatalf("verify own cookie: got (%x, %x, %d, %v), want (%x, %x, 0, true)", got, rs, idx, ok, tok, tc.rs)
			}
			oldValue := newSigner([][]byte{old}).sign(tok, tc.rs)
			if _, _, idx, ok := s.verify(oldValue); !ok || idx != 1 {
				t.Fatalf("verify cookie signed by previous secret: got (%d, %v), want (1, true)", idx, ok)
			}
			stranger := newSigner([][]byte{bytes.Repeat([]byte("x"), 32)}).sign(tok, tc.rs)
			if _, _, _, ok := s.verify(stranger); ok {
				t.Fatal("cookie signed by an unknown secret verified; want rejected")
			}
		})
	}
}

// A version-2 cookie's MAC covers the renewal secret: neither a secret
// swapped for another, nor one cut off or added, verifies (issue 11.3: the
// renewal secret is what theft detection rests on).
func TestVerifyBindsRenewalSecret(t *testing.T) {
	s := newSigner([][]byte{bytes.Repeat([]byte("k"), 32)})
	tok, rs := newToken(), randomBytes(RenewSecretBytes)
	v2, v1 := s.sign(tok, rs), s.sign(tok, nil)
	mac := func(v string) string { return v[strings.IndexByte(v, '.'):] }
	cases := []struct{ name, value string }{
		{"other secret, same MAC", b64.EncodeToString(append(append([]byte(nil), tok...), randomBytes(RenewSecretBytes)...)) + mac(v2)},
		{"secret cut off, version-2 MAC", b64.EncodeToString(tok) + mac(v2)},
		{"secret added, version-1 MAC", b64.EncodeToString(append(append([]byte(nil), tok...), rs...)) + mac(v1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, _, ok := s.verify(c.value); ok {
				t.Fatalf("verify(%q): got ok, want rejected", c.value)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	s := newSigner([][]byte{bytes.Repeat([]byte("k"), 32)})
	good := s.sign(newToken(), randomBytes(RenewSecretBytes))
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
			if tok, _, _, ok := s.verify(c.value); ok {
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
// of the two signed forms verify, and that a verified value round-trips:
// signing the token and renewal secret it yields gives back the same value.
func FuzzVerify(f *testing.F) {
	s := newSigner([][]byte{bytes.Repeat([]byte("f"), 32), bytes.Repeat([]byte("g"), 32)})
	good := s.sign(bytes.Repeat([]byte{7}, TokenBytes), nil)
	good2 := s.sign(bytes.Repeat([]byte{7}, TokenBytes), bytes.Repeat([]byte{9}, RenewSecretBytes))
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	f.Add(good2)
	f.Add(good2[:len(good2)-1] + "A")
	f.Add(good2[:b64.EncodedLen(TokenBytes)] + good[b64.EncodedLen(TokenBytes):])
	f.Add("")
	f.Add(".")
	f.Add(strings.Repeat("A", encodedLen))
	f.Add(strings.Repeat("A", encodedLen2))
	f.Add("s%3A" + good)
	f.Add(strings.Repeat("é", 40))
	f.Fuzz(func(t *testing.T, v string) {
		tok, rs, idx, ok := s.verify(v)
		if !ok {
			return
		}
		if len(tok) != TokenBytes {
			t.Fatalf("verified token has %d bytes, want %d", len(tok), TokenBytes)
		}
		if rs != nil && len(rs) != RenewSecretBytes {
			t.Fatalf("verified renewal secret has %d bytes, want %d or none", len(rs), RenewSecretBytes)
		}
		if idx == 0 && s.sign(tok, rs) != v {
			t.Fatalf("verified value %q does not round-trip: sign gives %q", v, s.sign(tok, rs))
		}
	})
}

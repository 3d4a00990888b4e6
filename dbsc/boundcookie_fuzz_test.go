package dbsc

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzBoundCookie: the bound cookie is untrusted input on every request of
// a bound session. Whatever its value, check does not panic, and only the
// value the server issued verifies (a one-byte change, a truncation or an
// extension never does). "The value" is the cookie as net/http reads it
// from the header: it trims the whitespace around a cookie-pair, so
// "<issued> " arrives as the issued value (testdata 51c7ae5179a5852c) and
// rightly verifies.
func FuzzBoundCookie(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	c := newBoundCookie("sid-dbsc", [][]byte{deriveForTest(secretA)})
	// A fixed nonce: every fuzzing process must agree on the one value
	// that verifies.
	good := c.issueWith("dA", now.Add(time.Hour), [nonceBytes]byte{1, 2, 3})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good + "A")
	f.Add("")
	f.Add(".")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "https://example.test/", nil)
		r.Header.Set("Cookie", "sid-dbsc="+v)
		got := c.check(r, "dA", now)
		seen := ""
		if ck, err := r.Cookie("sid-dbsc"); err == nil {
			seen = ck.Value
		}
		if got == cookieOK && seen != good {
			t.Fatalf("value %q (read as %q) verified; only the issued %q may", v, seen, good)
		}
		if v == good && got != cookieOK {
			t.Fatalf("the issued value: got %q, want ok", got)
		}
	})
}

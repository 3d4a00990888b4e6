package throttle

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cred stands for a stored password hash.
const cred = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

// newDevices returns device cookies, failing the test on an error.
func newDevices(t testing.TB, keys [][]byte, o DeviceOptions) *DeviceCookies {
	t.Helper()
	d, err := NewDeviceCookies(keys, o)
	if err != nil {
		t.Fatalf("NewDeviceCookies: %v", err)
	}
	return d
}

func issued(t testing.TB, d *DeviceCookies, username string) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	d.Issue(rec, username, cred)
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("issue: got %d cookies, want 1", len(cs))
	}
	return cs[0]
}

func TestDeviceCookies(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	prod := newDevices(t, [][]byte{newKey, oldKey}, DeviceOptions{Secure: true})
	c := issued(t, prod, "Alice")
	if c.Name != "__Host-device" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 365*24*3600 || c.Domain != "" {
		t.Fatalf("production device cookie: got %+v", c)
	}
	if strings.Contains(strings.ToLower(c.Value), "alice") {
		t.Fatalf("the cookie carries the user name: %q", c.Value)
	}
	old := issued(t, newDevices(t, [][]byte{oldKey}, DeviceOptions{Secure: true}), "alice")
	req := func(cookies ...*http.Cookie) *http.Request {
		r := httptest.NewRequest("POST", "/login", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}
	// Flip one bit of the signature's first byte: always a change, unlike
	// overwriting its last characters (which failed one run in a thousand,
	// when the real signature already ended that way).
	id, sig, _ := strings.Cut(c.Value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 1
	tampered := *c
	tampered.Value = id + "." + base64.RawURLEncoding.EncodeToString(raw)
	long := *c
	long.Value = c.Value + strings.Repeat("A", 100)
	cases := []struct {
		name  string
		r     *http.Request
		user  string
		cred  string
		valid bool
	}{
		{"issued, same user", req(c), "alice", cred, true},
		{"after a password change", req(c), "alice", cred + "x", false},
		{"unknown user (no credential)", req(c), "alice", "", false},
		{"user name in another case", req(c), "ALICE", cred, true},
		{"signed with the previous key", req(old), "alice", cred, true},
		{"another user", req(c), "bob", cred, false},
		{"no cookie", req(), "alice", cred, false},
		{"two cookies", req(c, c), "alice", cred, false},
		{"tampered signature", req(&tampered), "alice", cred, false},
		{"oversized", req(&long), "alice", cred, false},
		{"no dot", req(&http.Cookie{Name: c.Name, Value: strings.ReplaceAll(c.Value, ".", "")}), "alice", cred, false},
		{"empty", req(&http.Cookie{Name: c.Name, Value: ""}), "alice", cred, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := prod.Verify(tc.r, tc.user, tc.cred)
			if (id != "") != tc.valid {
				t.Fatalf("got device %q, want valid=%v", id, tc.valid)
			}
		})
	}
	var off *DeviceCookies
	if off.Verify(req(c), "alice", cred) != "" || off.Present(req(c)) {
		t.Fatal("a nil *DeviceCookies must verify nothing")
	}
	rec := httptest.NewRecorder()
	off.Issue(rec, "alice", cred)
	if got := rec.Header().Get("Set-Cookie"); got != "" {
		t.Fatalf("a nil *DeviceCookies issued %q, want nothing", got)
	}
}

// FuzzDeviceVerify: a cookie value verifies only when it is exactly what
// issue would have written for that user and id.
func FuzzDeviceVerify(f *testing.F) {
	key := bytes.Repeat([]byte("k"), 32)
	d := newDevices(f, [][]byte{key}, DeviceOptions{})
	id := strings.Repeat("A", 22)
	good := id + "." + base64.RawURLEncoding.EncodeToString(d.mac(key, "alice", cred, id))
	f.Add(good, "alice")
	f.Add(good, "ALICE")
	f.Add(good+"x", "alice")
	f.Add(id+"."+strings.Repeat("B", 43), "bob")
	f.Fuzz(func(t *testing.T, value, user string) {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Header.Set("Cookie", "device="+value)
		got := d.Verify(r, user, cred)
		if got == "" {
			return
		}
		if want := got + "." + base64.RawURLEncoding.EncodeToString(d.mac(key, user, cred, got)); value != want {
			t.Fatalf("value %q for %q verified as device %q; only %q should", value, user, got, want)
		}
	})
}

func TestNewDeviceCookies(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	cases := []struct {
		name     string
		keys     [][]byte
		o        DeviceOptions
		wantName string
		maxAge   int
		err      string
	}{
		{"defaults", [][]byte{key}, DeviceOptions{}, "device", 365 * 24 * 3600, ""},
		{"secure default name", [][]byte{key}, DeviceOptions{Secure: true}, "__Host-device", 365 * 24 * 3600, ""},
		{"own name and lifetime", [][]byte{key}, DeviceOptions{Name: "known_browser", Lifetime: time.Hour}, "known_browser", 3600, ""},
		{"no key", nil, DeviceOptions{}, "", 0, "device cookies need at least one key"},
		{"short key", [][]byte{key, key[:16]}, DeviceOptions{}, "", 0, "device-cookie key 1 is 16 bytes long: use at least 32 random bytes"},
		{"__Host- without Secure", [][]byte{key}, DeviceOptions{Name: "__Host-x"}, "", 0, `"__Host-x" has the __Host- prefix, which browsers accept only on a Secure cookie`},
		{"invalid name", [][]byte{key}, DeviceOptions{Name: "a b"}, "", 0, `device cookie name "a b" is not a valid cookie name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDeviceCookies(tc.keys, tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			c := issued(t, d, "alice")
			if c.Name != tc.wantName || d.Name() != tc.wantName || c.MaxAge != tc.maxAge || c.Secure != tc.o.Secure {
				t.Fatalf("got cookie %q Max-Age %d Secure %v, want %q %d %v", c.Name, c.MaxAge, c.Secure, tc.wantName, tc.maxAge, tc.o.Secure)
			}
		})
	}
}

// TestNewDeviceCookiesCopiesKeys: a caller that clears its key slice after
// NewDeviceCookies (as it should, once done with a secret) does not leave
// the cookies signed with zeros.
func TestNewDeviceCookiesCopiesKeys(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	d := newDevices(t, [][]byte{key}, DeviceOptions{})
	c := issued(t, d, "alice")
	clear(key)
	r := httptest.NewRequest("POST", "/login", nil)
	r.AddCookie(c)
	if d.Verify(r, "alice", cred) == "" {
		t.Fatal("a cookie issued before the caller cleared its key no longer verifies")
	}
	forged := newDevices(t, [][]byte{make([]byte, 32)}, DeviceOptions{})
	r = httptest.NewRequest("POST", "/login", nil)
	r.AddCookie(issued(t, forged, "alice"))
	if d.Verify(r, "alice", cred) != "" {
		t.Fatal("a cookie signed with an all-zero key verified")
	}
}

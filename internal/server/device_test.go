package server

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// cred stands for a stored password hash.
const cred = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

func issued(t testing.TB, d *deviceCookies, username string) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	d.issue(rec, username, cred)
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("issue: got %d cookies, want 1", len(cs))
	}
	return cs[0]
}

func TestDeviceCookies(t *testing.T) {
	oldKey, newKey := DeviceKeys([][]byte{bytes.Repeat([]byte("o"), 32)})[0], DeviceKeys([][]byte{bytes.Repeat([]byte("n"), 32)})[0]
	prod := newDeviceCookies([][]byte{newKey, oldKey}, true)
	c := issued(t, prod, "Alice")
	if c.Name != "__Host-tether_device" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 365*24*3600 || c.Domain != "" {
		t.Fatalf("production device cookie: got %+v", c)
	}
	if strings.Contains(strings.ToLower(c.Value), "alice") {
		t.Fatalf("the cookie carries the user name: %q", c.Value)
	}
	old := issued(t, newDeviceCookies([][]byte{oldKey}, true), "alice")
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
			id := prod.verify(tc.r, tc.user, tc.cred)
			if (id != "") != tc.valid {
				t.Fatalf("got device %q, want valid=%v", id, tc.valid)
			}
		})
	}
	if newDeviceCookies(nil, false) != nil || (*deviceCookies)(nil).verify(req(c), "alice", cred) != "" {
		t.Fatal("without keys device cookies must be off")
	}
	(*deviceCookies)(nil).issue(httptest.NewRecorder(), "alice", cred) // no panic
}

// FuzzDeviceVerify: a cookie value verifies only when it is exactly what
// issue would have written for that user and id.
func FuzzDeviceVerify(f *testing.F) {
	key := DeviceKeys([][]byte{bytes.Repeat([]byte("k"), 32)})[0]
	d := newDeviceCookies([][]byte{key}, false)
	id := strings.Repeat("A", 22)
	good := id + "." + base64.RawURLEncoding.EncodeToString(d.mac(key, "alice", cred, id))
	f.Add(good, "alice")
	f.Add(good, "ALICE")
	f.Add(good+"x", "alice")
	f.Add(id+"."+strings.Repeat("B", 43), "bob")
	f.Fuzz(func(t *testing.T, value, user string) {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Header.Set("Cookie", "tether_device="+value)
		got := d.verify(r, user, cred)
		if got == "" {
			return
		}
		if want := got + "." + base64.RawURLEncoding.EncodeToString(d.mac(key, user, cred, got)); value != want {
			t.Fatalf("value %q for %q verified as device %q; only %q should", value, user, got, want)
		}
	})
}

package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// The reference server's choice of device cookie: its name and flags per
// environment, and off without keys.
func TestDeviceCookiesGlue(t *testing.T) {
	keys := DeviceKeys([][]byte{bytes.Repeat([]byte("s"), 32)})
	for _, tc := range []struct {
		production bool
		name       string
	}{{false, "tether_device"}, {true, "__Host-tether_device"}} {
		rec := httptest.NewRecorder()
		mustDevices(t, keys, tc.production).issue(rec, "alice", "$argon2id$hash")
		cs := rec.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != tc.name || cs[0].Secure != tc.production || cs[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("production=%v: got %+v, want one %s cookie, Secure=%v, SameSite=Strict", tc.production, cs, tc.name, tc.production)
		}
		r := httptest.NewRequest("POST", "/login", nil)
		r.AddCookie(cs[0])
		if d := mustDevices(t, keys, tc.production); !d.present(r) || d.verify(r, "alice", "$argon2id$hash") == "" {
			t.Fatalf("production=%v: the issued cookie does not verify", tc.production)
		}
	}
	off := mustDevices(t, nil, false)
	if off != nil {
		t.Fatalf("without keys: got %v, want nil (off)", off)
	}
	rec := httptest.NewRecorder()
	off.issue(rec, "alice", "$argon2id$hash")
	if rec.Header().Get("Set-Cookie") != "" || off.present(httptest.NewRequest("POST", "/login", nil)) {
		t.Fatal("device cookies without keys issued or saw a cookie")
	}
}

// DeviceKeys gives one 32-byte key per secret, different per secret, and
// not the secret itself.
func TestDeviceKeys(t *testing.T) {
	a, b := bytes.Repeat([]byte("a"), 32), bytes.Repeat([]byte("b"), 32)
	keys := DeviceKeys([][]byte{a, b})
	if len(keys) != 2 || len(keys[0]) != 32 || bytes.Equal(keys[0], keys[1]) || bytes.Equal(keys[0], a) {
		t.Fatalf("got %x, want two distinct 32-byte keys that are not the secrets", keys)
	}
}

func mustDevices(t *testing.T, keys [][]byte, production bool) *deviceCookies {
	t.Helper()
	d, err := newDeviceCookies(keys, production)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Keys the device cookies refuse are a configuration error from New, not a
// panic at start-up.
func TestNewRefusesBadDeviceKeys(t *testing.T) {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{Manager: m, Users: aliceDir(t), DeviceKeys: [][]byte{[]byte("short")}})
	if err == nil || !strings.Contains(err.Error(), "DeviceKeys") {
		t.Fatalf("New with a 5-byte device key: got %v, want an error naming Options.DeviceKeys", err)
	}
}

package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
)

// fatalRecorder is a testing.TB whose Fatal records the message and stops
// the caller (as t.Fatal would), so that a test can check what Path says.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}

// TestPathFailsWithInstallHint: without Chromium the browser tests fail,
// saying what to install; they never skip (issue 15).
func TestPathFailsWithInstallHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("TETHER_CHROMIUM", "")
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != rec {
				panic(r)
			}
		}()
		p := Path(rec)
		t.Fatalf("Path with no Chromium on PATH: got %q, want a failure", p)
	}()
	for _, want := range []string{"Chromium", "apt-get install chromium", "scripts/test.sh"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("Path's failure %q: want it to mention %q", rec.msg, want)
		}
	}
}

// TestEnableFeatures: the --enable-features value for DBSC, with and
// without Chromium's signing quota, joined with a caller's own features
// (issue 16).
func TestEnableFeatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"none", Options{}, ""},
		{"caller only", Options{Flags: map[string]any{"enable-features": "Foo"}}, "Foo"},
		{"dbsc", Options{DBSC: true}, "DeviceBoundSessions," + dbscFeatures},
		{"dbsc without quota", Options{DBSC: true, DBSCNoQuota: true}, "DeviceBoundSessions:RefreshQuota/false," + dbscFeatures},
		{"dbsc and caller", Options{DBSC: true, Flags: map[string]any{"enable-features": "Foo"}}, "DeviceBoundSessions," + dbscFeatures + ",Foo"},
		{"quota flag alone does nothing", Options{DBSCNoQuota: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.enableFeatures(); got != tc.want {
				t.Errorf("enableFeatures: got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCookieParam: a cookie read from one browser becomes the parameter
// that sets the same cookie in another, host-only staying host-only and a
// session cookie staying without expiry (the thief of TestBrowserDBSC).
func TestCookieParam(t *testing.T) {
	const u = "https://localhost:8443"
	for _, tc := range []struct {
		name string
		in   network.Cookie
		want network.CookieParam
	}{
		{"host-only session cookie",
			network.Cookie{Name: "__Host-sid", Value: "v1", Domain: "localhost", Path: "/", Secure: true, HTTPOnly: true, SameSite: network.CookieSameSiteLax, Session: true, Expires: -1},
			network.CookieParam{Name: "__Host-sid", Value: "v1", URL: u, Path: "/", Secure: true, HTTPOnly: true, SameSite: network.CookieSameSiteLax}},
		{"host-only with expiry",
			network.Cookie{Name: "__Host-sid-dbsc", Value: "v2", Domain: "localhost", Path: "/", Secure: true, HTTPOnly: true, Expires: 1893456000.5},
			network.CookieParam{Name: "__Host-sid-dbsc", Value: "v2", URL: u, Path: "/", Secure: true, HTTPOnly: true, Expires: cdp.TimeSinceEpoch(1893456000.5)}},
		{"domain cookie",
			network.Cookie{Name: "d", Value: "v3", Domain: ".localhost", Path: "/x", Expires: 1893456000},
			network.CookieParam{Name: "d", Value: "v3", URL: u, Domain: ".localhost", Path: "/x", Expires: cdp.TimeSinceEpoch(1893456000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CookieParam(&tc.in, u); *got != tc.want {
				t.Errorf("CookieParam: got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

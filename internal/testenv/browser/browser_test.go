package browser

import (
	"fmt"
	"strings"
	"testing"
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

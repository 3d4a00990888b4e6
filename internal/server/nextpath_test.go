package server

import (
	"net/url"
	"testing"
)

// TestSafeNext: the sign-in page returns only to paths of this origin
// (issue 15: no open redirect).
func TestSafeNext(t *testing.T) {
	cases := []struct{ next, want string }{
		{"/account", "/account"},
		{"/admin", "/admin"},
		{"/account?done=password", "/account?done=password"},
		{"", "/account"},
		{"//evil", "/account"},
		{"//evil.example/x", "/account"},
		{"/\\evil", "/account"},
		{"\\\\evil", "/account"},
		{"/\\/evil", "/account"},
		{"https://evil", "/account"},
		{"https:/evil", "/account"},
		{"http://127.0.0.1.evil/", "/account"},
		{"javascript:alert(1)", "/account"},
		{"data:text/html,x", "/account"},
		{"evil", "/account"},
		{"/%2F%2Fevil", "/account"},
		{"/%2fevil", "/account"},
		{"%2F%2Fevil", "/account"},
		{"/%5Cevil", "/account"},
		{"/%5cevil", "/account"},
		{"%2F%5Cevil", "/account"},
		{"/\t/evil", "/account"},
		{"/\n/evil", "/account"},
		{"/ /evil", "/account"},
		{"/account#x", "/account"},
		{"/login", "/account"},
		{"/login?next=/admin", "/account"},
		{"/%zz", "/account"},
		{"/" + string(make([]byte, 600)), "/account"},
	}
	for _, tc := range cases {
		t.Run(tc.next, func(t *testing.T) {
			if got := safeNext(tc.next, "/account"); got != tc.want {
				t.Errorf("safeNext(%q): got %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}

// FuzzSafeNext: whatever the input, an accepted return path, resolved as a
// browser resolves a Location header against the app's URL, stays on the
// app's origin, even after one more percent-decoding.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/account", "//evil", "/\\evil", "https://evil", "/%2F%2Fevil", "/a?b=//c", "/\t/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example:8443/login?next=x")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next, "/account")
		if got != next && got != "/account" {
			t.Fatalf("safeNext(%q) = %q: neither the input nor the default", next, got)
		}
		for _, s := range []string{got, unescapeOnce(got)} {
			ref, err := url.Parse(s)
			if err != nil {
				continue
			}
			if u := base.ResolveReference(ref); u.Scheme != "https" || u.Host != "app.example:8443" {
				t.Fatalf("safeNext(%q) = %q resolves to %s: another origin", next, got, u)
			}
		}
	})
}

func unescapeOnce(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

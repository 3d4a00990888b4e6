package main

import (
	"net/http"
	"strings"
	"testing"
)

// SESSION_COOKIE_MODE reaches the server: each mode's login answer carries
// the cookie lifetime the mode promises (DESIGN "Contract additions").
func TestCookieModeEndToEnd(t *testing.T) {
	cases := []struct {
		mode   string
		maxAge string // "" means no Max-Age at all
	}{
		{"session", ""},
		{"persistent", "28800"}, // the absolute lifetime left, SESSION_ABSOLUTE_TIMEOUT=8h
		{"rolling", "1800"},     // the idle time left, SESSION_IDLE_TIMEOUT=30m
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			in := start(t, t.TempDir(), env("SESSION_COOKIE_MODE", tc.mode))
			c := in.client()
			r := c.login("alice", "correct-horse")
			expect(t, "login", r, 200, "")
			var sid string
			for _, line := range r.header.Values("Set-Cookie") {
				if strings.HasPrefix(line, "sid=") {
					sid = line
				}
			}
			if sid == "" {
				t.Fatalf("login: got Set-Cookie %q, want a sid cookie", r.header.Values("Set-Cookie"))
			}
			var got string
			for _, attr := range strings.Split(sid, "; ") {
				if v, ok := strings.CutPrefix(attr, "Max-Age="); ok {
					got = v
				}
			}
			if got != tc.maxAge || (tc.maxAge == "" && strings.Contains(sid, "Expires=")) {
				t.Fatalf("SESSION_COOKIE_MODE=%s login cookie: got %q, want Max-Age %q", tc.mode, sid, tc.maxAge)
			}
			expect(t, "profile with the cookie", c.get("/profile"), http.StatusOK, "")
			in.stop()
		})
	}
}

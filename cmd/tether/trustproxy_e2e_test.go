package main

import (
	"strings"
	"testing"
)

// TRUST_PROXY decides which client address events record; without it,
// X-Forwarded-For is ignored.
func TestTrustProxyDecidesClientIP(t *testing.T) {
	cases := []struct {
		name, trust, want string
	}{
		{"no proxy trusted", "", `"ip":"127.0.0.1"`},
		{"one trusted hop", "1", `"ip":"198.51.100.7"`},
		{"trusted loopback network", "127.0.0.0/8", `"ip":"198.51.100.7"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, t.TempDir(), env("TRUST_PROXY", tc.trust))
			c := in.client()
			r := c.do("POST", "/login", "application/json", `{"username":"alice","password":"wrong-horse"}`, "X-Forwarded-For", "6.6.6.6, 198.51.100.7")
			expect(t, "failed login", r, 401, "")
			in.stop()
			if !strings.Contains(in.events.String(), tc.want) {
				t.Fatalf("events: want %s in\n%s", tc.want, in.events)
			}
		})
	}
}

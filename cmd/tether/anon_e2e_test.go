package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetherhq/tether/sqlitestore"
)

// liveSessions counts the live sessions in the embedded store of dir.
func liveSessions(t *testing.T, dir string) int64 {
	t.Helper()
	st, err := sqlitestore.Inspect(context.Background(), filepath.Join(dir, "tether.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st.Live
}

func maxAgeOf(r response) string {
	for _, sc := range r.header.Values("Set-Cookie") {
		if !strings.HasPrefix(sc, "sid=") {
			continue
		}
		for _, p := range strings.Split(sc, "; ") {
			if v, ok := strings.CutPrefix(p, "Max-Age="); ok {
				return v
			}
		}
	}
	return ""
}

// issue 11 row 5: every cookieless GET /views or /csrf-token stored a
// record for the full idle timeout, without limit. Now one client IP
// creates at most SESSION_CREATE_PER_IP anonymous sessions a minute (429
// with Retry-After beyond, nothing stored), they live
// SESSION_ANON_IDLE_TIMEOUT, and logins are neither counted nor refused.
func TestAnonymousSessionsLimited(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env("SESSION_CREATE_PER_IP", "3"))
	var first *client
	for i := range 3 {
		c := in.client()
		r := c.get("/views")
		expect(t, "cookieless GET /views within the limit", r, 200, `{"views":1}`)
		if got := maxAgeOf(r); got != "300" {
			t.Fatalf("anonymous session cookie: Max-Age %q, want 300 (SESSION_ANON_IDLE_TIMEOUT default 5m)", got)
		}
		if i == 0 {
			first = c
		}
	}
	for _, path := range []string{"/views", "/csrf-token"} {
		r := in.client().get(path)
		expect(t, "cookieless GET "+path+" beyond the limit", r, http.StatusTooManyRequests, `{"error":"Too many new sessions; retry later"}`)
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Fatalf("Retry-After %q: want 1 to 60 seconds", r.header.Get("Retry-After"))
		}
		if sc := r.header.Get("Set-Cookie"); sc != "" {
			t.Fatalf("Set-Cookie on a refused creation: %q, want none", sc)
		}
	}
	if got := liveSessions(t, dir); got != 3 {
		t.Fatalf("records after the refused creations: got %d, want 3", got)
	}
	expect(t, "a request that stores nothing", in.client().get("/"), 200, "")
	expect(t, "an existing anonymous session", first.get("/views"), 200, `{"views":2}`)
	c := in.client()
	r := c.login("alice", "correct-horse")
	expect(t, "a cookieless login beyond the limit", r, 200, "")
	if got := maxAgeOf(r); got != "1800" {
		t.Fatalf("signed-in session cookie: Max-Age %q, want 1800 (SESSION_IDLE_TIMEOUT)", got)
	}
	expect(t, "a login from an anonymous session", first.login("alice", "correct-horse"), 200, "")
	if got := liveSessions(t, dir); got != 4 {
		t.Fatalf("records after two logins: got %d, want 4 (3 anonymous, one of them now signed in, and 1 new)", got)
	}
	in.stop()
	if n := strings.Count(in.events.String(), `"limit":"session_create"`); n != 2 {
		t.Fatalf("rate_limited events with limit session_create: got %d, want 2:\n%s", n, in.events)
	}
}

// issue 11 row 5 (as row 2 for logins): the addresses of one IPv6 /64 share
// one budget of new sessions; another /64 has its own.
func TestAnonymousSessionsLimitedPerIPv6Network(t *testing.T) {
	in := start(t, t.TempDir(), env("SESSION_CREATE_PER_IP", "2", "TRUST_PROXY", "127.0.0.1"))
	for _, tc := range []struct {
		ip     string
		status int
	}{
		{"2001:db8:1:2::1", 200},
		{"2001:db8:1:2::ffff", 200},
		{"2001:db8:1:2:abcd:ef01:2345:6789", 429},
		{"2001:db8:1:3::1", 200},
	} {
		r := in.client().do("GET", "/views", "", "", "X-Forwarded-For", tc.ip)
		expect(t, "cookieless GET /views from "+tc.ip, r, tc.status, "")
	}
}

// SESSION_CREATE_PER_IP=0 turns the limit off.
func TestAnonymousSessionsUnlimited(t *testing.T) {
	in := start(t, t.TempDir(), env("SESSION_CREATE_PER_IP", "0"))
	for range 5 {
		expect(t, "cookieless GET /views", in.client().get("/views"), 200, `{"views":1}`)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/redistest"
)

// Login throttling: the 11th failed attempt on one account within 15
// minutes gets 429 with Retry-After, on every instance sharing Redis, for
// known and unknown accounts alike; another account is unaffected.
func TestLoginThrottling(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	url := "redis://" + srv.Addr
	a := start(t, t.TempDir(), redisEnv(url))
	b := start(t, t.TempDir(), redisEnv(url))
	for _, user := range []string{"alice", "nobody-here"} {
		for i := 1; i <= 10; i++ {
			inst := a
			if i%2 == 0 {
				inst = b // failures on both instances count together
			}
			expect(t, user+" failure "+strconv.Itoa(i), inst.client().login(user, "wrong-horse"), 401, `{"error":"Invalid credentials"}`)
		}
		r := b.client().login(user, "correct-horse")
		if r.status != 429 || !strings.Contains(r.body, `"error"`) {
			t.Fatalf("%s 11th attempt: got %d %s, want 429 {\"error\":…}", user, r.status, r.body)
		}
		ra, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 900 {
			t.Fatalf("%s Retry-After: got %q, want 1-900 seconds", user, r.header.Get("Retry-After"))
		}
	}
	expect(t, "another account", a.client().login("bob", "wrong-horse"), 401, "")
	a.stop()
	b.stop()
	if !strings.Contains(b.events.String(), `"event":"rate_limited"`) {
		t.Fatalf("no rate_limited event:\n%s", b.events)
	}
}

// loginFrom logs in with an X-Forwarded-For header.
func (c *client) loginFrom(xff, user, pw string) response {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return c.do("POST", "/login", "application/json", string(b), "X-Forwarded-For", xff)
}

// The per-IP limit counts the client IP that TRUST_PROXY believes: with a
// trusted proxy, X-Forwarded-For separates clients; without one, the header
// is ignored, so an attacker cannot dodge the limit by making up addresses.
func TestLoginThrottlingPerIP(t *testing.T) {
	limits := []string{"LOGIN_MAX_FAILURES_PER_IP", "5", "LOGIN_MAX_FAILURES", "1000"}
	t.Run("behind a trusted proxy", func(t *testing.T) {
		in := start(t, t.TempDir(), env(append(limits, "TRUST_PROXY", "1")...))
		c := in.client()
		for i := 1; i <= 5; i++ { // five different accounts: only the IP count adds up
			expect(t, fmt.Sprintf("failure %d", i), c.loginFrom("203.0.113.7", fmt.Sprintf("user%d", i), "wrong-horse"), 401, "")
		}
		r := c.loginFrom("203.0.113.7", "alice", "correct-horse")
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("6th attempt from 203.0.113.7: got %d %s, want 429 with Retry-After", r.status, r.body)
		}
		expect(t, "another client behind the proxy", c.loginFrom("203.0.113.8", "alice", "correct-horse"), 200, "")
		in.stop()
		if !strings.Contains(in.events.String(), `"limit":"ip"`) || !strings.Contains(in.events.String(), `"ip":"203.0.113.7"`) {
			t.Fatalf("want a rate_limited event with limit ip for 203.0.113.7:\n%s", in.events)
		}
	})
	t.Run("no trusted proxy: X-Forwarded-For ignored", func(t *testing.T) {
		in := start(t, t.TempDir(), env(limits...))
		c := in.client()
		for i := 1; i <= 5; i++ { // a new made-up address every time
			expect(t, fmt.Sprintf("failure %d", i), c.loginFrom(fmt.Sprintf("198.51.100.%d", i), "alice", "wrong-horse"), 401, "")
		}
		r := c.loginFrom("198.51.100.99", "alice", "correct-horse")
		if r.status != 429 {
			t.Fatalf("6th attempt with a fresh X-Forwarded-For: got %d %s, want 429 (the header must not reset the count)", r.status, r.body)
		}
	})
}

// No lockout a stranger can make permanent: once the window ends, the
// account's owner logs in again.
func TestLoginThrottlingWindowEnds(t *testing.T) {
	in := start(t, t.TempDir(), env("LOGIN_MAX_FAILURES", "3", "LOGIN_THROTTLE_WINDOW", "2s"))
	stranger := in.client()
	for i := 1; i <= 3; i++ {
		expect(t, fmt.Sprintf("stranger's failure %d", i), stranger.login("alice", "wrong-horse"), 401, "")
	}
	owner := in.client()
	r := owner.login("alice", "correct-horse")
	if r.status != 429 {
		t.Fatalf("owner during the window: got %d %s, want 429", r.status, r.body)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After: got %q, want 1-2 seconds", r.header.Get("Retry-After"))
	}
	time.Sleep(time.Duration(ra)*time.Second + 200*time.Millisecond)
	expect(t, "owner after Retry-After", owner.login("alice", "correct-horse"), 200, "")
	expect(t, "the success reset the account's count", stranger.login("alice", "wrong-horse"), 401, "")
}

package main

import (
	"strconv"
	"strings"
	"testing"

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

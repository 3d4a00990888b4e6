package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/redistest"
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

// Guards against the check-then-act race the first throttle had: it read
// the count before the password check and raised it only after a failure,
// so 50 parallel wrong passwords all got 401 and none 429. Now every
// attempt is counted before its password is checked: across two instances
// sharing Redis, exactly the limit's number reach the check.
func TestLoginThrottlingConcurrent(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	url := "redis://" + srv.Addr
	a := start(t, t.TempDir(), redisEnv(url))
	b := start(t, t.TempDir(), redisEnv(url))
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range n {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		c := inst.client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			statuses[i] = c.login("alice", "wrong-horse").status
		}()
	}
	close(begin)
	wg.Wait()
	got := map[int]int{}
	for _, st := range statuses {
		got[st]++
	}
	if got[401] != 10 || got[429] != n-10 || len(got) != 2 {
		t.Fatalf("%d parallel wrong passwords with LOGIN_MAX_FAILURES=10: got statuses %v, want 10×401 and %d×429", n, got, n-10)
	}
	r := a.client().login("alice", "correct-horse")
	expect(t, "the right password after the burst, without a device cookie", r, 429, "")
	a.stop()
	b.stop()
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

// Lockout as denial of service (OWASP device cookies): a stranger who keeps
// an account at its failure limit locks out every browser that has not
// logged in to it before, but not the owner's: their browser got a device
// cookie at its last login, and its attempts count on their own. The
// cookie is good for its account only and cannot be forged.
func TestDeviceCookieKeepsOwnerIn(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env("LOGIN_MAX_FAILURES", "3"))
	cliIn(t, dir, "battery-staple\n", "user", "add", "bob", "--password-stdin")
	owner := in.client()
	r := owner.login("alice", "correct-horse")
	expect(t, "owner's first login", r, 200, "")
	var dev string
	for _, v := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "tether_device=") {
			dev = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Max-Age=31536000", "Path=/"} {
		if !strings.Contains(dev, want) {
			t.Errorf("device cookie %q: missing %s", dev, want)
		}
	}
	expect(t, "owner logs out", owner.do("POST", "/logout", "", ""), 200, "")

	stranger := in.client()
	for i := 1; i <= 3; i++ {
		expect(t, fmt.Sprintf("stranger's failure %d", i), stranger.login("alice", "wrong-horse"), 401, "")
	}
	expect(t, "stranger after the limit", stranger.login("alice", "correct-horse"), 429, "")
	expect(t, "a new browser of the owner", in.client().login("alice", "correct-horse"), 429, "")
	expect(t, "the owner's known browser", owner.login("alice", "correct-horse"), 200, `{"ok":true,"user":"alice"}`)

	// The device cookie is alice's: for bob it counts as no cookie.
	for i := 1; i <= 3; i++ {
		expect(t, fmt.Sprintf("bob's failure %d", i), stranger.login("bob", "wrong-staple"), 401, "")
	}
	expect(t, "alice's device cookie for bob", owner.login("bob", "battery-staple"), 429, "")
	forged := in.client()
	forged.hc.Jar.SetCookies(mustURL(t, in.base), []*http.Cookie{{Name: "tether_device", Value: strings.Repeat("A", 22) + "." + strings.Repeat("B", 43)}})
	expect(t, "a forged device cookie", forged.login("alice", "correct-horse"), 429, "")
	in.stop()
	if !strings.Contains(in.events.String(), `"limit":"account"`) {
		t.Fatalf("no rate_limited event with limit account:\n%s", in.events)
	}
}

// deviceCookie returns the client's tether_device cookie.
func (c *client) deviceCookie(t *testing.T, base string) *http.Cookie {
	t.Helper()
	for _, ck := range c.hc.Jar.Cookies(mustURL(t, base)) {
		if ck.Name == "tether_device" {
			return ck
		}
	}
	t.Fatal("no tether_device cookie")
	return nil
}

// Guards against device cookies outliving the password they vouch for: a
// cookie copied from the owner's browser must stop escaping the account's
// count once the password changes, through POST /password (which gives
// the changing browser a new cookie) or through the admin CLI (which voids
// them all).
func TestDeviceCookieVoidedByPasswordChange(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env("LOGIN_MAX_FAILURES", "3"))
	owner := in.client()
	expect(t, "owner's login", owner.login("alice", "correct-horse"), 200, "")
	thief := in.client() // has a copy of the owner's device cookie
	thief.hc.Jar.SetCookies(mustURL(t, in.base), []*http.Cookie{owner.deviceCookie(t, in.base)})
	old := owner.deviceCookie(t, in.base).Value

	expect(t, "password change", owner.post("/password", `{"currentPassword":"correct-horse","newPassword":"new-horse-battery"}`), 200, "")
	if owner.deviceCookie(t, in.base).Value == old {
		t.Fatal("POST /password kept the old device cookie; want a new one bound to the new password")
	}
	stranger := in.client()
	for i := 1; i <= 3; i++ {
		expect(t, fmt.Sprintf("stranger's failure %d", i), stranger.login("alice", "wrong-horse"), 401, "")
	}
	expect(t, "the copied cookie from before the change", thief.login("alice", "guess-1"), 429, "")
	expect(t, "the owner's browser, re-issued", owner.login("alice", "new-horse-battery"), 200, "")

	cliIn(t, dir, "admin-set-horse\n", "user", "passwd", "alice", "--password-stdin")
	expect(t, "the owner's cookie after an admin reset", owner.login("alice", "admin-set-horse"), 429, "")
	in.stop()
}

// A stolen session cannot be used to guess the password faster through
// /reauth (or /password) than through /login: the same throttle applies.
func TestReauthIsThrottled(t *testing.T) {
	in := start(t, t.TempDir(), env("LOGIN_MAX_FAILURES", "3"))
	thief := in.client()
	expect(t, "login", thief.login("alice", "correct-horse"), 200, "")
	thief.hc.Jar.SetCookies(mustURL(t, in.base), []*http.Cookie{{Name: "tether_device", Value: "", MaxAge: -1}})
	for i := 1; i <= 3; i++ {
		expect(t, fmt.Sprintf("wrong reauth %d", i), thief.post("/reauth", `{"password":"guess-`+strconv.Itoa(i)+`"}`), 401, `{"error":"Invalid credentials"}`)
	}
	r := thief.post("/reauth", `{"password":"correct-horse"}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th reauth: got %d %s, want 429 with Retry-After", r.status, r.body)
	}
	r = thief.post("/password", `{"currentPassword":"correct-horse","newPassword":"taken-over-1"}`)
	if r.status != 429 {
		t.Fatalf("password change while throttled: got %d %s, want 429", r.status, r.body)
	}
	in.stop()
	if n := strings.Count(in.events.String(), `"event":"reauth_failure"`); n != 3 {
		t.Errorf("reauth_failure events: got %d, want 3", n)
	}
	if !strings.Contains(in.events.String(), `"event":"rate_limited"`) {
		t.Errorf("no rate_limited event")
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/passwords"
)

// metric reads one unlabelled sample from the server's /metrics.
func (in *instance) metric(t *testing.T, name string) float64 {
	t.Helper()
	r := in.client().get("/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("/metrics: got %d, no sample of %s", r.status, name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// No user enumeration (ASVS 6.3.8 / the point 1): an unknown user,
// a wrong password, a disabled account and an invalid user name all get the same 401 body after exactly one Argon2id
// computation, the same work as a successful login.
func TestLoginFailuresLookAlike(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env())
	cliIn(t, dir, "battery-staple\n", "user", "add", "dora", "--password-stdin")
	cliIn(t, dir, "", "user", "disable", "dora")
	cases := []struct {
		name, user, pw string
		status         int
		body           string
	}{
		{"right password", "alice", "correct-horse", 200, `{"ok":true,"user":"alice"}`},
		{"wrong password", "alice", "wrong-horse", 401, `{"error":"Invalid credentials"}`},
		{"unknown user", "mallory", "correct-horse", 401, `{"error":"Invalid credentials"}`},
		{"disabled user, right password", "dora", "battery-staple", 401, `{"error":"Invalid credentials"}`},
		{"invalid user name", "al ice", "correct-horse", 401, `{"error":"Invalid credentials"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := in.metric(t, "tether_password_hashes_total")
			expect(t, tc.name, in.client().login(tc.user, tc.pw), tc.status, tc.body)
			if n := in.metric(t, "tether_password_hashes_total") - before; n != 1 {
				t.Fatalf("Argon2id computations: got %v, want 1 (the same work for every outcome)", n)
			}
		})
	}
}

// A hash made with parameters other than the server's is replaced at the
// next successful login, over HTTP, and only once.
func TestRehashOnLoginOverHTTP(t *testing.T) {
	dir := t.TempDir()
	weak := passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	d, err := users.Open(filepath.Join(dir, "tether.db"), weak)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(context.Background(), "carol", "battery-staple", users.RoleUser); err != nil {
		t.Fatal(err)
	}
	d.Close()
	stored := func() string {
		d, err := users.Open(filepath.Join(dir, "tether.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		u, err := d.Get(context.Background(), "carol")
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	old := stored()

	in := start(t, dir, env())
	expect(t, "wrong password", in.client().login("carol", "wrong-staple"), 401, "")
	if stored() != old {
		t.Fatal("a failed login replaced the hash")
	}
	before := in.metric(t, "tether_password_hashes_total")
	expect(t, "login with the old hash", in.client().login("carol", "battery-staple"), 200, "")
	if n := in.metric(t, "tether_password_hashes_total") - before; n != 2 {
		t.Fatalf("computations: got %v, want 2 (verify, then rehash)", n)
	}
	if h := stored(); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash after login: got %.40s…, want the server's m=19456,t=2,p=1", h)
	}
	before = in.metric(t, "tether_password_hashes_total")
	expect(t, "login with the new hash", in.client().login("carol", "battery-staple"), 200, "")
	if n := in.metric(t, "tether_password_hashes_total") - before; n != 1 {
		t.Fatalf("computations on the next login: got %v, want 1 (no second rehash)", n)
	}
}

// A login flood waits for hashing slots rather than running every Argon2id
// computation at once (each holds 19 MiB): while 24 logins arrive together,
// /metrics never shows more computations in flight than slots, and shows
// callers waiting; every login still gets its right answer. (Attempts in
// flight count against the login throttle, so its limits are raised here.)
func TestLoginFloodIsBounded(t *testing.T) {
	in := start(t, t.TempDir(), env("LOGIN_MAX_FAILURES", "1000", "LOGIN_MAX_FAILURES_PER_IP", "1000"))
	slots := in.metric(t, "tether_password_hash_slots")
	if slots < 1 {
		t.Fatalf("hash slots: got %v, want at least 1", slots)
	}
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		maxFlight, maxWait float64
		done               = make(chan struct{})
		polled             = make(chan struct{})
		samples            int
	)
	go func() { // sample the gauges throughout the flood
		defer close(polled)
		for {
			select {
			case <-done:
				return
			default:
			}
			f, w := in.metric(t, "tether_password_hashes_in_flight"), in.metric(t, "tether_password_hash_waiting")
			mu.Lock()
			maxFlight, maxWait, samples = max(maxFlight, f), max(maxWait, w), samples+1
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	const n = 24
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw, want := "correct-horse", 200
			if i%2 == 1 {
				pw, want = fmt.Sprintf("wrong-horse-%d", i), 401
			}
			if r := in.client().login("alice", pw); r.status != want {
				t.Errorf("login %d: got %d %s, want %d", i, r.status, r.body, want)
			}
		}()
	}
	wg.Wait()
	close(done)
	<-polled
	t.Logf("slots %v, peak in flight %v, peak waiting %v, %d samples", slots, maxFlight, maxWait, samples)
	if maxFlight > slots {
		t.Fatalf("peak computations in flight: got %v, want at most %v slots", maxFlight, slots)
	}
	if maxWait < 1 {
		t.Fatalf("peak callers waiting during a flood of %d: got %v, want some (the bound engaged)", n, maxWait)
	}
}

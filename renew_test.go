package tether_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

const (
	testInterval = 10 * time.Minute
	testGrace    = 2 * time.Minute // long enough for a rolling cookie to be due in it
)

// renewFixture is newFixture with renewal every testInterval and mod applied.
func renewFixture(t *testing.T, mod func(*tether.Config)) *fixture {
	t.Helper()
	return newFixture(t, func(c *tether.Config) {
		c.RenewInterval, c.RenewGrace = testInterval, testGrace
		if mod != nil {
			mod(c)
		}
	})
}

// countEvents returns how many events of typ f has seen.
func (f *fixture) countEvents(typ string) int {
	n := 0
	for _, e := range f.events.types() {
		if e == typ {
			n++
		}
	}
	return n
}

// Issue 11.3: "The browser's own concurrent requests must never trigger it.
// Test: 20 parallel requests across a renewal, then the jar's last cookie
// still works, and no token_reuse appears. One store call on the request
// that renews, none extra on the others." Over a real HTTP server with a
// cookie jar; run with -race -count=20 to see it is not flaky.
func TestRenewParallelRequests(t *testing.T) {
	for _, mode := range []tether.CookieMode{tether.CookieRolling, tether.CookieSession} {
		t.Run(mode.String(), func(t *testing.T) {
			f := renewFixture(t, func(c *tether.Config) { c.CookieMode = mode })
			// /burst holds every request, once it has loaded the session,
			// until all have: each loads the state from before the renewal,
			// so each would renew if nothing picked one.
			const n = 20
			var loaded sync.WaitGroup
			loaded.Add(n)
			mux := http.NewServeMux()
			mux.Handle("/", testMux(t))
			mux.HandleFunc("GET /burst", func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				id := s.UserID()
				loaded.Done()
				done := make(chan struct{})
				go func() { loaded.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Errorf("/burst: not every request loaded within 10s")
				}
				_, _ = io.WriteString(w, id+"|")
			})
			srv := httptest.NewServer(f.m.Handler(mux))
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			client := srv.Client()
			client.Jar = jar
			u, _ := url.Parse(srv.URL)
			cookie := func() string {
				for _, c := range jar.Cookies(u) {
					if c.Name == "sid" {
						return c.Value
					}
				}
				return ""
			}
			get := func(path string) (string, bool) {
				t.Helper()
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					t.Errorf("GET %s: %v", path, err)
					return "", false
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				sent := false
				for _, c := range resp.Cookies() {
					sent = sent || c.Name == "sid"
				}
				return string(body), sent
			}
			if body, _ := get("/login"); body != "in" {
				t.Fatalf("login: got %q, want in", body)
			}
			before := cookie()
			f.clock.Add(testInterval + time.Second)
			f.store.reset()

			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				sent int
			)
			for range n {
				wg.Go(func() {
					body, set := get("/burst")
					if body != "user-1|" {
						t.Errorf("parallel request: got %q, want user-1| (served)", body)
					}
					mu.Lock()
					defer mu.Unlock()
					if set {
						sent++
					}
				})
			}
			wg.Wait()
			if sent != 1 {
				t.Errorf("responses with a Set-Cookie among %d parallel requests: got %d, want 1 (the renewal)", n, sent)
			}
			if got := f.store.loads.Load(); got != n {
				t.Errorf("Loads: got %d, want %d (one a request)", got, n)
			}
			if got := f.store.updates.Load(); got != 1 {
				t.Errorf("Updates: got %d, want 1 (the renewing request's; none on the others)", got)
			}
			if got := f.store.creates.Load() + f.store.deletes.Load(); got != 0 {
				t.Errorf("Creates and Deletes: got %d, want 0 (the record stays)", got)
			}
			after := cookie()
			if after == before || after == "" {
				t.Fatalf("the jar's cookie after the burst: got the same (%v), want a renewed one", after == before)
			}
			// After the grace, only the jar's last cookie is valid: it must be
			// the renewed one.
			f.clock.Add(testGrace + time.Second)
			if body, _ := get("/get"); body != "user-1|" {
				t.Fatalf("the jar's last cookie after the grace: got %q, want user-1| (it still works)", body)
			}
			if n := f.countEvents(tether.EventTokenReuse); n != 0 {
				t.Fatalf("token_reuse events: got %d, want 0 (events %v)", n, f.events.types())
			}
		})
	}
}

// A replaced cookie works for the grace (requests in flight) and is never
// re-sent; presented after it, or with a secret the session never had, it
// ends the whole session for both cookies and emits token_reuse (issue
// 11.3 "a replaced token presented after its grace ends the whole session
// and logs token_reuse").
func TestRenewGraceAndReuse(t *testing.T) {
	unknown := func(f *fixture, old, _ string) string {
		return tether.WithRenewalSecret(f.m, old, make([]byte, tether.RenewSecretBytes))
	}
	v1 := func(f *fixture, old, _ string) string { return tether.WithRenewalSecret(f.m, old, nil) }
	replaced := func(_ *fixture, old, _ string) string { return old }
	cases := []struct {
		name    string
		after   time.Duration // after the renewal
		present func(f *fixture, old, renewed string) string
		served  bool
	}{
		{"replaced cookie in its grace", testGrace - 30*time.Second, replaced, true},
		{"replaced cookie after its grace", testGrace, replaced, false},
		{"replaced cookie long after", 5 * time.Minute, replaced, false},
		{"unknown secret, at once", 0, unknown, false},
		{"unknown secret, never renewed", -1, unknown, false},
		{"version-1 form of a version-2 session", 0, v1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := renewFixture(t, nil)
			_, old := f.do(t, "/login", "")
			renewed := old
			if tc.after >= 0 {
				f.clock.Add(testInterval)
				if _, renewed = f.do(t, "/get", old); renewed == "" || renewed == "-" || renewed == old {
					t.Fatalf("request after the interval: got cookie %q, want a renewed one", renewed)
				}
				f.clock.Add(tc.after)
			}
			f.store.reset()
			rec, set := f.do(t, "/get", tc.present(f, old, renewed))
			if served := rec.Body.String() == "user-1|"; served != tc.served {
				t.Fatalf("request: got served=%v (%q), want %v", served, rec.Body.String(), tc.served)
			}
			reuse := f.countEvents(tether.EventTokenReuse)
			if tc.served {
				if set != "" {
					t.Fatalf("Set-Cookie on a request in the grace: got %q, want none (the old cookie is never re-sent)", set)
				}
				if reuse != 0 {
					t.Fatalf("token_reuse events: got %d, want 0", reuse)
				}
				// The idle deadline moved by more than RollingResendStep,
				// but a replaced cookie is not even considered for a re-send.
				if got := f.store.updates.Load(); got != 0 {
					t.Fatalf("Updates for a request in the grace: got %d, want 0", got)
				}
				if rec, _ := f.do(t, "/get", renewed); rec.Body.String() != "user-1|" {
					t.Fatalf("renewed cookie after a request in the grace: got %q, want served", rec.Body.String())
				}
				return
			}
			if reuse != 1 {
				t.Fatalf("token_reuse events: got %d, want 1 (events %v)", reuse, f.events.types())
			}
			if set != "-" {
				t.Fatalf("Set-Cookie: got %q, want the cookie expired", set)
			}
			if rec, _ := f.do(t, "/get", renewed); rec.Body.String() != "|" {
				t.Fatalf("renewed cookie after token reuse: got %q, want no session (ended for both)", rec.Body.String())
			}
		})
	}
}

// Store calls: a renewing request makes the calls it made before, plus one
// Update when it would have made none; a request that does not renew makes
// the same calls as without renewal (issue 11.3 "One store call on the
// request that renews, none extra on the others").
func TestRenewStoreCalls(t *testing.T) {
	cases := []struct {
		name  string
		mode  tether.CookieMode
		path  string
		extra int64 // Updates the renewal adds
	}{
		{"read, session cookie (no write otherwise)", tether.CookieSession, "/get", 1},
		{"read, rolling cookie (its expiry is written anyway)", tether.CookieRolling, "/get", 0},
		{"change, session cookie", tether.CookieSession, "/set?k=a&v=1", 0},
		{"change, rolling cookie", tether.CookieRolling, "/set?k=a&v=1", 0},
		{"increment as first use, session cookie", tether.CookieSession, "/incr", 1},
		{"increment as first use, rolling cookie (its expiry is written anyway)", tether.CookieRolling, "/incr", 0},
	}
	calls := func(t *testing.T, interval time.Duration, mode tether.CookieMode, path string, wait time.Duration) (renewing, next [4]int64) {
		f := newFixture(t, func(c *tether.Config) { c.CookieMode, c.RenewInterval, c.RenewGrace = mode, interval, testGrace })
		_, c := f.do(t, "/login", "")
		count := func() [4]int64 {
			return [4]int64{f.store.creates.Load(), f.store.loads.Load(), f.store.updates.Load(), f.store.deletes.Load()}
		}
		f.clock.Add(wait)
		f.store.reset()
		if _, nc := f.do(t, path, c); nc != "" {
			c = nc
		}
		renewing = count()
		f.clock.Add(wait)
		f.store.reset()
		f.do(t, path, c)
		return renewing, count()
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wait := testInterval + time.Second
			off, offNext := calls(t, tether.RenewOff, tc.mode, tc.path, wait)
			on, _ := calls(t, testInterval, tc.mode, tc.path, wait)
			want := off
			want[2] += tc.extra
			if on != want {
				t.Errorf("renewing request (creates, loads, updates, deletes): got %v, want %v (without renewal: %v)", on, want, off)
			}
			// A request that does not renew: a minute later, not due.
			_, onNext := calls(t, testInterval, tc.mode, tc.path, time.Minute)
			_, offNext = calls(t, tether.RenewOff, tc.mode, tc.path, time.Minute)
			if onNext != offNext {
				t.Errorf("request that does not renew: got %v, want %v (as without renewal)", onNext, offNext)
			}
		})
	}
}

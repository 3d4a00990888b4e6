package tether_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name  string
		role  string
		steps []time.Duration // waits between requests, each followed by a request
		alive []bool
		event string
	}{
		{"idle refreshes on activity", "", []time.Duration{29 * time.Minute, 29 * time.Minute, 29 * time.Minute}, []bool{true, true, true}, ""},
		{"idle timeout", "", []time.Duration{31 * time.Minute}, []bool{false}, tether.EventIdleTimeout},
		{"absolute timeout despite activity", "", repeat(20*time.Minute, 25), append(repeatBool(true, 23), false, false), tether.EventAbsoluteTimeout},
		{"admin absolute timeout is shorter", "admin", repeat(20*time.Minute, 3), []bool{true, true, false}, tether.EventAbsoluteTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/login?role="+tc.role, "")
			for i, d := range tc.steps {
				f.clock.Add(d)
				rec, nc := f.do(t, "/get", c)
				if nc != "" && nc != "-" {
					c = nc // a browser keeps the renewed cookie
				}
				alive := rec.Body.String() == "user-1|"
				if alive != tc.alive[i] {
					t.Fatalf("request %d after %v: got alive=%v, want %v", i+1, d, alive, tc.alive[i])
				}
			}
			if tc.event != "" && !f.events.has(tc.event) {
				t.Fatalf("events %v: want %s", f.events.types(), tc.event)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func repeatBool(b bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// Guards against resurrection (DESIGN guarantee 2): a request that loaded the
// session before a concurrent logout must not re-create it when it saves.
func TestNoResurrectionAfterConcurrentLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	loaded := make(chan struct{})
	release := make(chan struct{})
	slow := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tether.FromContext(r.Context()).UserID() != "user-1" { // loads the session
			t.Error("slow request: not logged in")
		}
		close(loaded)
		<-release
		_ = tether.FromContext(r.Context()).Set("late", "write")
		_, _ = w.Write([]byte("saved?"))
	}))
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "sid", Value: c})
		rec := httptest.NewRecorder()
		slow.ServeHTTP(rec, req)
		done <- rec
	}()
	<-loaded
	f.do(t, "/logout", c)
	close(release)
	rec := <-done
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("in-flight write after logout: got %d %q, want 401", rec.Code, rec.Body.String())
	}
	if f.mem.Len() != 0 {
		t.Fatalf("records after logout and in-flight write: got %d, want 0", f.mem.Len())
	}
	if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
		t.Fatalf("old cookie: got %q, want anonymous", got.Body.String())
	}
}

// DESIGN guarantee 3: concurrent increments are never lost, and concurrent
// writes of different keys keep each other's changes.
func TestConcurrentChanges(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/incr", "")
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if rec, _ := f.do(t, "/incr", c); rec.Code != 200 {
				t.Errorf("incr: got %d", rec.Code)
			}
			if i < 20 {
				f.do(t, fmt.Sprintf("/set?k=k%d&v=%d", i, i), c)
			}
		}(i)
	}
	wg.Wait()
	var n int64
	f.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/noop", nil))
	rec, _ := f.do(t, "/incr", c)
	fmt.Sscan(rec.Body.String(), &n)
	if n != 202 {
		t.Fatalf("counter after 1 + 200 concurrent + 1 increments: got %d, want 202", n)
	}
	for i := 0; i < 20; i++ {
		if rec, _ := f.do(t, fmt.Sprintf("/get?k=k%d", i), c); rec.Body.String() != fmt.Sprintf("|%d", i) {
			t.Fatalf("key k%d: got %q, want %q", i, rec.Body.String(), fmt.Sprintf("|%d", i))
		}
	}
}

// A rotation starts from the stored record, not from what its request
// loaded. Guards against two holes: a value another party stored meanwhile
// (an admin tool's account-changed flag) being dropped by the new token, and
// a session revoked meanwhile coming back under a new token.
func TestRegenerateMergesAndNeverResurrects(t *testing.T) {
	f := newFixture(t, nil)
	mux := http.NewServeMux()
	var during func(r *http.Request)
	var regenErr error
	mux.HandleFunc("GET /rotate", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.GetString("x") // loaded now
		during(r)
		_ = s.Set("mine", "1")
		regenErr = s.Regenerate()
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_, _ = w.Write([]byte(s.UserID() + "|" + s.GetString("flag") + "|" + s.GetString("mine")))
	})
	h := f.m.Handler(mux)
	do := func(path, cookie string) (*httptest.ResponseRecorder, string) {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec, setCookie(rec, f.m.CookieName())
	}
	_, c := f.do(t, "/login", "")

	during = func(r *http.Request) {
		if _, err := f.m.SetUserSessions(r.Context(), "user-1", "flag", "set-meanwhile"); err != nil {
			t.Fatal(err)
		}
	}
	_, c2 := do("/rotate", c)
	if regenErr != nil || c2 == "" || c2 == c {
		t.Fatalf("rotation: got %v and cookie %q, want a new token", regenErr, c2)
	}
	if rec, _ := do("/get", c2); rec.Body.String() != "user-1|set-meanwhile|1" {
		t.Fatalf("new token's session: got %q, want user-1|set-meanwhile|1 (the value stored meanwhile and this request's own)", rec.Body.String())
	}

	during = func(r *http.Request) {
		if _, err := f.m.EndUserSessions(r.Context(), "user-1"); err != nil {
			t.Fatal(err)
		}
	}
	rec, c3 := do("/rotate", c2)
	if c3 != "" && c3 != "-" {
		if got, _ := do("/get", c3); got.Body.String() != "||" {
			t.Fatalf("a session revoked during its rotation came back under a new token: %q", got.Body.String())
		}
	}
	if rec.Code < 400 {
		t.Fatalf("rotation of a session revoked meanwhile: got %d, want an error status", rec.Code)
	}
	if n, err := f.m.UserSessions(context.Background(), "user-1"); err != nil || len(n) != 0 {
		t.Fatalf("sessions left after the revocation: got %d %v, want 0", len(n), err)
	}
}

// revokingStore revokes every session of user-1 just before the next
// Create lands: a revocation that runs between a rotation's check of the
// old record and the creation of the new one.
type revokingStore struct {
	*memstore.Store
	armed atomic.Bool
}

func (s *revokingStore) Create(ctx context.Context, k string, rec *tether.Record) error {
	if s.armed.CompareAndSwap(true, false) {
		if _, err := s.Store.DeleteUser(ctx, "user-1"); err != nil {
			return err
		}
	}
	return s.Store.Create(ctx, k, rec)
}

// Guards against the narrowest resurrection window: a revocation landing
// while a rotation creates its new record must end that new record too.
func TestRotationRevokedWhileCreating(t *testing.T) {
	rs := &revokingStore{Store: memstore.New()}
	f := newFixture(t, func(c *tether.Config) { c.Store = rs })
	_, c := f.do(t, "/login", "")
	rs.armed.Store(true)
	rec, c2 := f.do(t, "/regen", c)
	if rec.Code < 400 {
		t.Fatalf("rotation revoked meanwhile: got %d, want an error status", rec.Code)
	}
	if c2 != "" && c2 != "-" {
		if got, _ := f.do(t, "/get", c2); got.Body.String() != "|" {
			t.Fatalf("the new token of a revoked session works: %q", got.Body.String())
		}
	}
	if n := rs.Len(); n != 0 {
		t.Fatalf("records left after the revocation: got %d, want 0", n)
	}
}

// failingCreate fails the next Create when armed.
type failingCreate struct {
	*memstore.Store
	armed atomic.Bool
}

func (s *failingCreate) Create(ctx context.Context, k string, rec *tether.Record) error {
	if s.armed.CompareAndSwap(true, false) {
		return errors.New("connection refused")
	}
	return s.Store.Create(ctx, k, rec)
}

// A rotation that fails leaves the old record as it was: the request's
// changes are merged into a copy, never written to the old record, so a
// failed login does not leave its values in the anonymous session.
func TestFailedRotationLeavesOldRecord(t *testing.T) {
	fs := &failingCreate{Store: memstore.New()}
	f := newFixture(t, func(c *tether.Config) { c.Store = fs })
	_, c := f.do(t, "/set?k=cart&v=3", "")
	fs.armed.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login-with-name", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Set("username", "alice")
		_ = s.Login("user-1", "")
	})
	req := httptest.NewRequest("GET", "/login-with-name", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
	rec := httptest.NewRecorder()
	f.m.Handler(mux).ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("login whose Create fails: got %d, want 503", rec.Code)
	}
	if got, _ := f.do(t, "/get?k=username", c); got.Body.String() != "|" {
		t.Fatalf("the anonymous session after the failed login: got %q, want no user and no username", got.Body.String())
	}
	if got, _ := f.do(t, "/get?k=cart", c); got.Body.String() != "|3" {
		t.Fatalf("the anonymous session's own value: got %q, want |3", got.Body.String())
	}
}

// Guards against a rotation losing increments: an Incr in a request that
// also rotates the token is carried as a delta onto the stored record, so
// increments other requests made on the old record meanwhile are kept.
func TestIncrDuringRotationKeepsOthersIncrements(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.do(t, "/incr", c) // n = 1 (after the login, which starts the values afresh: issue 11 row 4)
	var got int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rotate-and-count", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.GetString("x") // loaded: n = 1 in this request's copy
		// Meanwhile another request of the same session adds 10.
		req := httptest.NewRequest("GET", "/incr", nil)
		req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
		for range 10 {
			f.h.ServeHTTP(httptest.NewRecorder(), req)
		}
		_ = s.Regenerate()
		got, _ = s.Incr(r.Context(), "n", 1)
	})
	req := httptest.NewRequest("GET", "/rotate-and-count", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
	rec := httptest.NewRecorder()
	f.m.Handler(mux).ServeHTTP(rec, req)
	c2 := setCookie(rec, f.m.CookieName())
	if c2 == "" || c2 == c || got != 2 {
		t.Fatalf("rotation: got cookie %q and Incr %d, want a new token and 2 (this request's view)", c2, got)
	}
	if r, _ := f.do(t, "/incr", c2); r.Body.String() != "13" {
		t.Fatalf("next increment under the new token: got %q, want 13 (1 + 10 meanwhile + 1, + 1)", r.Body.String())
	}
}

// A slow response must never put back a token that a later login replaced
// (found in review: a long poll loaded the session, another request logged
// in, giving the browser a new token and deleting the old record, then the
// long poll ended and re-sent the old cookie, logging the user out). Nor may
// it expire the cookie: the browser's cookie is the login's by then. The
// browser's jar is replayed in the order the responses arrive.
func TestSlowResponseNeverPutsBackAReplacedToken(t *testing.T) {
	for _, mode := range []string{"rolling", "session", "persistent"} {
		for _, write := range []bool{false, true} {
			name := mode + "/reads"
			if write {
				name = mode + "/writes"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, func(c *tether.Config) { setCookieMode(t, c, mode) })
				_, c := f.do(t, "/set?k=a&v=1", "")
				loaded := make(chan struct{})
				release := make(chan struct{})
				slow := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					s := tether.FromContext(r.Context())
					_ = s.GetString("a") // loads the session
					close(loaded)
					<-release // the long poll waits
					if write {
						_ = s.Set("poll", "done")
					}
					_, _ = w.Write([]byte("event"))
				}))
				done := make(chan *httptest.ResponseRecorder)
				go func() {
					req := httptest.NewRequest("GET", "/poll", nil)
					req.AddCookie(&http.Cookie{Name: "sid", Value: c})
					rec := httptest.NewRecorder()
					slow.ServeHTTP(rec, req)
					done <- rec
				}()
				<-loaded
				f.clock.Add(2 * time.Second) // the login comes a moment later
				_, in := f.do(t, "/login", c)
				if in == "" || in == "-" || in == c {
					t.Fatalf("login: got cookie %q, want a new token", in)
				}
				f.clock.Add(28 * time.Second) // the poll ends 30 s after it began
				close(release)
				rec := <-done
				jar := in
				if got := setCookie(rec, "sid"); got != "" {
					jar = got
				}
				if jar != in {
					t.Fatalf("browser cookie after the slow response (Set-Cookie %q): got %q, want the login's %q",
						rec.Header().Values("Set-Cookie"), jar, in)
				}
				if got, _ := f.do(t, "/get", jar); got.Body.String() != "user-1|" {
					t.Fatalf("after the slow response: got %q, want still logged in", got.Body.String())
				}
			})
		}
	}
}

// setCookieMode sets c.CookieMode from its name.
func setCookieMode(t *testing.T, c *tether.Config, name string) {
	t.Helper()
	m, err := tether.ParseCookieMode(name)
	if err != nil {
		t.Fatal(err)
	}
	c.CookieMode = m
}

package tether_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tetherhq/tether"
)

func TestNoCookieNoStoreCall(t *testing.T) {
	f := newFixture(t, nil)
	rec, c := f.do(t, "/get?k=a", "")
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a request without a cookie: got %d, want 0", got)
	}
	if c != "" {
		t.Fatalf("Set-Cookie for an untouched anonymous request: got %q, want none", c)
	}
	if got := rec.Header().Get("Cache-Control"); got != "" {
		t.Fatalf("Cache-Control on a response that does not depend on a session: got %q, want none", got)
	}
}

func TestCreateThenReadCostsOneLoad(t *testing.T) {
	f := newFixture(t, nil)
	rec, c := f.do(t, "/set?k=a&v=1", "")
	if c == "" || c == "-" {
		t.Fatalf("first write: got cookie %q, want a new session cookie", c)
	}
	if got := f.store.creates.Load(); got != 1 {
		t.Fatalf("creates: got %d, want 1", got)
	}
	sc := rec.Header().Get("Set-Cookie")
	// An anonymous session's cookie lasts its idle timeout (issue 11 row 5).
	for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=300"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q: missing %q", sc, want)
		}
	}
	for _, bad := range []string{"Domain", "Secure"} {
		if strings.Contains(sc, bad) {
			t.Errorf("Set-Cookie %q in development: has %q, want not", sc, bad)
		}
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
	if got := rec.Header().Get("Vary"); got != "Cookie" {
		t.Errorf("Vary: got %q, want Cookie", got)
	}
	if !f.events.has(tether.EventSessionCreated) {
		t.Errorf("events %v: want %s", f.events.types(), tether.EventSessionCreated)
	}

	f.store.reset()
	rec, c2 := f.do(t, "/get?k=a", c)
	if got := rec.Body.String(); got != "|1" {
		t.Fatalf("read back: got %q, want %q", got, "|1")
	}
	if got, want := f.store.calls(), int64(1); got != want {
		t.Fatalf("store calls for an unchanged session: got %d, want %d (one Load)", got, want)
	}
	if c2 != "" {
		t.Fatalf("rolling cookie a moment after it was sent: got Set-Cookie %q, want none (re-sent once the deadline moved a minute)", c2)
	}
}

func TestChangeCostsTwoCalls(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/set?k=a&v=1", "")
	f.store.reset()
	f.do(t, "/set?k=b&v=2", c)
	if got := f.store.calls(); got != 2 {
		t.Fatalf("store calls for a change: got %d, want 2 (Load + Update)", got)
	}
	f.store.reset()
	f.do(t, "/incr", c)
	if got := f.store.calls(); got != 1 {
		t.Fatalf("store calls for an Incr that is the first use: got %d, want 1 (Update, which also refreshes the idle deadline)", got)
	}
	f.store.reset()
	f.do(t, "/noop", c)
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a handler that never uses its session: got %d, want 0", got)
	}
}

func TestTamperedCookieNeverReachesStore(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.store.reset()
	b := []byte(c)
	b[5] ^= 1
	if b[5] == '.' || b[5] > 'z' {
		b[5] = 'A'
	}
	rec, c2 := f.do(t, "/get", string(b))
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a tampered cookie: got %d, want 0", got)
	}
	if rec.Body.String() != "|" {
		t.Fatalf("tampered cookie: got user %q, want anonymous", rec.Body.String())
	}
	if c2 != "-" {
		t.Fatalf("tampered cookie: got Set-Cookie %q, want it expired", c2)
	}
	if !f.events.has(tether.EventSessionRejected) {
		t.Fatalf("events %v: want %s", f.events.types(), tether.EventSessionRejected)
	}
}

func TestBadCookies(t *testing.T) {
	f := newFixture(t, nil)
	_, good := f.do(t, "/login", "")
	cases := []struct {
		name    string
		cookies []string
		status  int
	}{
		{"duplicate cookies", []string{good, good}, 400},
		{"duplicate cookies, one forged", []string{"x", good}, 400},
		{"oversized cookie", []string{strings.Repeat("A", 5000)}, 431},
		{"garbage", []string{"%%%"}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.store.reset()
			req := httptest.NewRequest("GET", "/get", nil)
			for _, c := range tc.cookies {
				req.Header.Add("Cookie", "sid="+c)
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status: got %d, want %d", rec.Code, tc.status)
			}
			if tc.status >= 400 {
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
					t.Fatalf("body: got %q, want {\"error\":…}", rec.Body.String())
				}
				if f.store.calls() != 0 {
					t.Fatalf("store calls: got %d, want 0", f.store.calls())
				}
			}
		})
	}
}

func TestStoreDownIs503NotLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.store.down.Store(true)
	for _, path := range []string{"/get", "/set?k=a&v=1", "/logout", "/incr"} {
		rec, c2 := f.do(t, path, c)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s with store down: got %d %q, want 503", path, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), `"error":"Session store unavailable"`) {
			t.Fatalf("%s body: got %q", path, rec.Body.String())
		}
		if c2 != "" {
			t.Fatalf("%s with store down: got Set-Cookie %q, want the client's cookie left alone", path, c2)
		}
	}
	f.store.down.Store(false)
	if rec, _ := f.do(t, "/get", c); rec.Body.String() != "user-1|" {
		t.Fatalf("after the store returns: got %q, want still logged in", rec.Body.String())
	}
	// A new session whose Create fails is a 503 as well.
	f.store.down.Store(true)
	if rec, _ := f.do(t, "/set?k=a&v=1", ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("create with store down: got %d, want 503", rec.Code)
	}
}

// Err tells a handler that its session could not be loaded, so that a
// check that reads the session (CSRF, authorization) does not take a store
// outage for an empty session (regression: with the store down the CSRF
// check logged a false csrf_failure).
func TestSessionErrDuringOutage(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	var got []error
	var mu sync.Mutex
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, tether.FromContext(r.Context()).Err())
	}))
	serve := func(cookie string) {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	serve(c)
	serve("")
	f.store.down.Store(true)
	serve(c)
	serve("") // no cookie: nothing to load, no error
	want := []bool{false, false, true, false}
	for i, w := range want {
		if isDown := errors.Is(got[i], tether.ErrStoreUnavailable); isDown != w {
			t.Errorf("request %d: got Err() = %v, want store unavailable: %v", i, got[i], w)
		}
	}
}

// Manager.Error answers through Config.ErrorHandler, so code built on the
// session (csrf) reaches the application's own error pages.
func TestManagerErrorUsesConfigErrorHandler(t *testing.T) {
	var seen error
	f := newFixture(t, func(c *tether.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			seen = err
			w.WriteHeader(http.StatusTeapot)
		}
	})
	rec := httptest.NewRecorder()
	f.m.Error(rec, httptest.NewRequest("GET", "/", nil), tether.ErrStoreUnavailable)
	if rec.Code != http.StatusTeapot || !errors.Is(seen, tether.ErrStoreUnavailable) {
		t.Fatalf("Manager.Error: got status %d and error %v, want the configured handler's 418 with the error", rec.Code, seen)
	}
}

// FromContext outside the middleware panics with a message that names the
// missing middleware (it used to return nil, and the handler died on a nil
// dereference); Lookup reports the absence instead.
func TestFromContextWithoutMiddleware(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name string
		call func(ctx context.Context) *tether.Session
		want string
	}{
		{"FromContext", tether.FromContext, "wrap the handler with Manager.Handler"},
		{"Manager.FromContext", f.m.FromContext, `Manager of cookie "sid"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				err, ok := v.(error)
				if !ok || !errors.Is(err, tether.ErrNoSession) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("panic: got %v, want an ErrNoSession naming %q", v, tc.want)
				}
			}()
			tc.call(context.Background())
			t.Fatal("got no panic, want one")
		})
	}
	if s, ok := tether.Lookup(context.Background()); s != nil || ok {
		t.Errorf("Lookup without a session: got %v, %v; want nil, false", s, ok)
	}
	if s, ok := f.m.Lookup(context.Background()); s != nil || ok {
		t.Errorf("Manager.Lookup without a session: got %v, %v; want nil, false", s, ok)
	}
}

// Two Managers on one request (a user area and an admin area with their own
// cookies) each find their own session: they used to share one context
// key, and the inner one shadowed the outer.
func TestTwoManagersOnOneRequest(t *testing.T) {
	user := newFixture(t, nil)
	admin := newFixture(t, func(c *tether.Config) { c.CookieName = "admin_sid" })
	other := newFixture(t, func(c *tether.Config) { c.CookieName = "other_sid" })
	var innermost, userS, adminS *tether.Session
	var otherFound bool
	h := user.m.Handler(admin.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		innermost, userS, adminS = tether.FromContext(ctx), user.m.FromContext(ctx), admin.m.FromContext(ctx)
		_, otherFound = other.m.Lookup(ctx)
		if err := userS.Set("area", "user"); err != nil {
			t.Errorf("user Set: %v", err)
		}
		if err := adminS.Login("admin-1", "admin"); err != nil {
			t.Errorf("admin Login: %v", err)
		}
		// A context derived from the request's still finds both.
		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		if user.m.FromContext(derived) != userS || admin.m.FromContext(derived) != adminS {
			t.Error("a derived context lost a Manager's session")
		}
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if userS == nil || adminS == nil || userS == adminS {
		t.Fatalf("sessions: got user %p and admin %p, want two distinct sessions", userS, adminS)
	}
	if innermost != adminS {
		t.Errorf("FromContext: got %p, want the innermost Manager's session %p", innermost, adminS)
	}
	if otherFound {
		t.Error("Lookup of a Manager the request did not pass through: got a session, want none")
	}
	uc, ac := setCookie(rec, "sid"), setCookie(rec, "admin_sid")
	if uc == "" || ac == "" {
		t.Fatalf("cookies: got sid %q and admin_sid %q, want both set", uc, ac)
	}
	if user.mem.Len() != 1 || admin.mem.Len() != 1 {
		t.Fatalf("records: got %d user and %d admin, want 1 each", user.mem.Len(), admin.mem.Len())
	}
	if rec, _ := user.do(t, "/get?k=area", uc); rec.Body.String() != "|user" {
		t.Errorf("user session: got %q, want %q", rec.Body.String(), "|user")
	}
	if rec, _ := admin.do(t, "/get", ac); rec.Body.String() != "admin-1|" {
		t.Errorf("admin session: got %q, want %q", rec.Body.String(), "admin-1|")
	}
}

// Regression: during a store outage a handler (or csrf) that answered with
// Manager.Error made Config.ErrorHandler run twice for one request: once for
// its call, once for the failed save that replaced its answer.
func TestManagerErrorDuringOutageCallsErrorHandlerOnce(t *testing.T) {
	var calls atomic.Int32
	f := newFixture(t, func(c *tether.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			calls.Add(1)
			tether.DefaultErrorHandler(w, r, err)
		}
	})
	_, c := f.do(t, "/login", "")
	f.store.down.Store(true)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.FromContext(r.Context()).Err(); err != nil {
			f.m.Error(w, r, err)
		}
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || calls.Load() != 1 {
		t.Fatalf("outage answered through Manager.Error: got status %d after %d ErrorHandler calls, want 503 after 1", rec.Code, calls.Load())
	}
}

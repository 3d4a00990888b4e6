package tether_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func TestValueSizeLimit(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.MaxValueBytes = 100 })
	rec, _ := f.do(t, "/set?k=a&v="+strings.Repeat("x", 200), "")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "too large") {
		t.Fatalf("oversized value: got %d %q, want the Set error", rec.Code, rec.Body.String())
	}
}

func TestIncrOfNonInteger(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("incr is first use: %v", first), func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/set?k=n&v=abc", "")
			path := "/incr"
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				if !first {
					_ = s.UserID()
				}
				_, err := s.Incr(r.Context(), "n", 1)
				tether.DefaultErrorHandler(w, r, err)
			}))
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 500 {
				t.Fatalf("Incr of a string: got %d %q, want 500", rec.Code, rec.Body.String())
			}
			if got, _ := f.do(t, "/get?k=n", c); got.Body.String() != "|abc" {
				t.Fatalf("value after a failed Incr: got %q, want unchanged", got.Body.String())
			}
		})
	}
}

// An increment that would overflow int64 fails with ErrNotInteger on the
// local path too (a session not stored yet), as the Store contract says
// for stored ones; it used to wrap around.
func TestLocalIncrOverflow(t *testing.T) {
	f := newFixture(t, nil)
	var errs []error
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Set("n", int64(math.MaxInt64))
		_, err := s.Incr(r.Context(), "n", 1)
		errs = append(errs, err)
		_ = s.Set("m", int64(math.MinInt64))
		_, err = s.Incr(r.Context(), "m", -1)
		errs = append(errs, err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for i, err := range errs {
		if !errors.Is(err, tether.ErrNotInteger) {
			t.Fatalf("increment %d past the int64 range: got %v, want ErrNotInteger", i, err)
		}
	}
}

// Every change after the response started fails loudly and changes
// nothing: it used to return nil and be lost.
func TestChangeAfterResponseStarted(t *testing.T) {
	type result struct {
		err  error // the method's own result, or Err for one that has none
		rest string
	}
	cases := []struct {
		name   string
		login  bool // the request carries a logged-in session
		change func(s *tether.Session) error
	}{
		{"Set", true, func(s *tether.Session) error { return s.Set("a", "late") }},
		{"Set on a new session", false, func(s *tether.Session) error { return s.Set("a", "late") }},
		{"Incr of a new session", false, func(s *tether.Session) error {
			_, err := s.Incr(context.Background(), "a", 1)
			return err
		}},
		{"Login", false, func(s *tether.Session) error { return s.Login("user-2", "") }},
		{"Regenerate", true, func(s *tether.Session) error { return s.Regenerate() }},
		{"Reauthenticate", true, func(s *tether.Session) error { return s.Reauthenticate() }},
		{"ChangeRole", true, func(s *tether.Session) error { return s.ChangeRole("admin") }},
		{"SetPersistent", true, func(s *tether.Session) error { return s.SetPersistent(true) }},
		{"Remove", true, func(s *tether.Session) error { s.Remove("a"); return s.Err() }},
		{"Destroy", true, func(s *tether.Session) error { s.Destroy(); return s.Err() }},
		{"Logout", true, func(s *tether.Session) error { s.Logout(); return s.Err() }},
	}
	for _, tc := range cases {
		for _, start := range []string{"Write", "Flush", "return"} {
			t.Run(tc.name+" after "+start, func(t *testing.T) {
				f := newFixture(t, nil)
				var c string
				if tc.login {
					_, c = f.do(t, "/login", "")
					f.do(t, "/set?k=a&v=before", c)
				}
				records := f.mem.Len()
				var got error
				var sess *tether.Session
				h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					sess = tether.FromContext(r.Context())
					switch start {
					case "Write":
						_, _ = w.Write([]byte("started"))
					case "Flush":
						w.(http.Flusher).Flush()
					case "return":
						return
					}
					got = tc.change(sess)
				}))
				req := httptest.NewRequest("GET", "/", nil)
				if c != "" {
					req.AddCookie(&http.Cookie{Name: "sid", Value: c})
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
				if start == "return" {
					got = tc.change(sess) // after the middleware saved it
				}
				if !errors.Is(got, tether.ErrResponseStarted) {
					t.Fatalf("got %v, want ErrResponseStarted", got)
				}
				if n := f.mem.Len(); n != records {
					t.Fatalf("records: got %d, want %d (nothing changed)", n, records)
				}
				if tc.login {
					if rec, _ := f.do(t, "/get?k=a", c); rec.Body.String() != "user-1|before" {
						t.Fatalf("session after the late change: got %q, want %q", rec.Body.String(), "user-1|before")
					}
				}
			})
		}
	}
}

// Incr of a stored session after the response started still counts: the
// store applies it at once, so nothing is lost.
func TestIncrAfterResponseStartedGoesToTheStore(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.do(t, "/incr", c)
	var n int64
	var err error
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.UserID()
		_, _ = w.Write([]byte("started"))
		n, err = s.Incr(r.Context(), "n", 1)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err != nil || n != 2 {
		t.Fatalf("Incr after the response started: got %d, %v; want 2, nil", n, err)
	}
	if rec, _ := f.do(t, "/incr", c); rec.Body.String() != "3" {
		t.Fatalf("next Incr: got %q, want 3", rec.Body.String())
	}
}

// tether's bookkeeping values (the remember-me choice, the cookie's expiry)
// share Record.Values with the application's; the data API neither shows
// nor changes them (regression: "_tether.persistent" appeared in Keys once
// used, and a Set or Remove could flip a session's cookie lifetime).
func TestReservedKeysHiddenAndProtected(t *testing.T) {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var found bool
	var setErr, incrErr error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		switch r.URL.Path {
		case "/remember":
			_ = s.Login("user-1", "")
			_ = s.Set("theme", "dark")
			_ = s.SetPersistent(true)
		case "/tamper":
			s.Remove("_tether.persistent")
			setErr = s.Set("_tether.persistent", false)
			_, incrErr = s.Incr(r.Context(), "_tether.cookie", 1)
			keys = s.Keys()
			var v any
			found, _ = s.Get("_tether.persistent", &v)
		case "/rotate":
			_ = s.Regenerate()
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/remember", nil))
	cookie := rec.Result().Cookies()[0]
	req := httptest.NewRequest("GET", "/tamper", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if len(keys) != 1 || keys[0] != "theme" {
		t.Errorf("Keys: got %v, want [theme]", keys)
	}
	if found {
		t.Error(`Get("_tether.persistent"): got found, want hidden`)
	}
	if !errors.Is(setErr, tether.ErrReservedKey) || !errors.Is(incrErr, tether.ErrReservedKey) {
		t.Errorf("Set and Incr of reserved keys: got %v and %v, want ErrReservedKey", setErr, incrErr)
	}
	if status, _ := tether.StatusOf(setErr); status != http.StatusInternalServerError {
		t.Errorf("StatusOf(ErrReservedKey): got %d, want 500", status)
	}
	// The remember-me choice survived the Remove: a later rotation still
	// gets a persistent cookie (Max-Age beyond the idle timeout).
	req = httptest.NewRequest("GET", "/rotate", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if c := rec.Result().Cookies(); len(c) == 0 || c[0].MaxAge <= int(tether.DefaultIdleTimeout/time.Second) {
		t.Errorf("cookie after the tampering request: got %v, want a persistent one", c)
	}
}

package tether_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// A privilege change renews the session (OWASP Session Management: renew
// the ID on any privilege level change) and caps its life at the new role's
// absolute timeout; it never lengthens it.
func TestChangeRole(t *testing.T) {
	cases := []struct {
		name      string
		loginRole string
		after     time.Duration // time between login and the change
		newRole   string
		wantErr   error
		wantAbs   time.Duration // absolute deadline after the change, from login
	}{
		{"promotion shortens to the admin lifetime", "user", 10 * time.Minute, "admin", nil, time.Hour},
		{"demotion keeps the shorter deadline", "admin", 10 * time.Minute, "user", nil, time.Hour},
		{"same lifetime keeps the deadline", "user", 10 * time.Minute, "editor", nil, 8 * time.Hour},
		{"promotion past the admin lifetime ends the session", "user", 2 * time.Hour, "admin", tether.ErrSessionEnded, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// An idle timeout longer than the gap keeps the session alive.
			f := newFixture(t, func(c *tether.Config) { c.IdleTimeout = 3 * time.Hour })
			var changeErr error
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				changeErr = tether.FromContext(r.Context()).ChangeRole(tc.newRole)
				if changeErr != nil {
					tether.DefaultErrorHandler(w, r, changeErr)
				}
			}))
			_, c := f.do(t, "/login?role="+tc.loginRole, "")
			loginAt := f.clock.Now()
			f.clock.Add(tc.after)
			req := httptest.NewRequest("POST", "/role", nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			c2 := setCookie(rec, "sid")
			if !errors.Is(changeErr, tc.wantErr) {
				t.Fatalf("ChangeRole: got %v, want %v", changeErr, tc.wantErr)
			}
			if tc.wantErr != nil {
				if c2 != "-" {
					t.Fatalf("cookie after an ended session: got %q, want it expired", c2)
				}
				if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
					t.Fatalf("old token: got %q, want anonymous", got.Body.String())
				}
				return
			}
			if c2 == "" || c2 == "-" || c2 == c {
				t.Fatalf("cookie after ChangeRole: got %q, want a new token", c2)
			}
			if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
				t.Fatalf("old token after ChangeRole: got %q, want anonymous", got.Body.String())
			}
			var abs time.Time
			probe := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, abs = tether.FromContext(r.Context()).Deadlines()
			}))
			req = httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c2})
			probe.ServeHTTP(httptest.NewRecorder(), req)
			if want := loginAt.Add(tc.wantAbs); !abs.Equal(want) {
				t.Fatalf("absolute deadline: got %v, want %v", abs, want)
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		f := newFixture(t, nil)
		var err error
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = tether.FromContext(r.Context()).ChangeRole("admin")
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if !errors.Is(err, tether.ErrNotAuthenticated) {
			t.Fatalf("got %v, want ErrNotAuthenticated", err)
		}
	})
}

func TestSetUserSessions(t *testing.T) {
	f := newFixture(t, nil)
	_, c1 := f.do(t, "/login", "")
	_, c2 := f.do(t, "/login", "")
	n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "yes")
	if err != nil || n != 2 {
		t.Fatalf("SetUserSessions: got %d %v, want 2", n, err)
	}
	for _, c := range []string{c1, c2} {
		if got, _ := f.do(t, "/get?k=flag", c); got.Body.String() != "user-1|yes" {
			t.Fatalf("flag in session: got %q, want user-1|yes", got.Body.String())
		}
	}
	if n, err := f.m.SetUserSessions(context.Background(), "user-2", "flag", "yes"); err != nil || n != 0 {
		t.Fatalf("another user: got %d %v, want 0", n, err)
	}
	f.do(t, "/logout", c1)
	if n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "again"); err != nil || n != 1 {
		t.Fatalf("after one logout: got %d %v, want 1 (no resurrection)", n, err)
	}
	if got, _ := f.do(t, "/get?k=flag", c1); got.Body.String() != "|" {
		t.Fatalf("logged-out session: got %q, want anonymous", got.Body.String())
	}
}

// rotatingStore rotates the first record SetUserSessions updates just
// before the update lands, as a concurrent login or Regenerate would: the
// values are copied to a new key that the first listing did not hold, and
// the old record is deleted.
type rotatingStore struct {
	*memstore.Store
	rotated atomic.Bool
	newKey  string
}

func (s *rotatingStore) Update(ctx context.Context, k string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	if _, ok := p.Set["flag"]; ok && s.rotated.CompareAndSwap(false, true) {
		rec, err := s.Store.Load(ctx, k, now, now.Add(time.Hour))
		if err != nil {
			return nil, err
		}
		s.newKey = k + "-rotated"
		if err := s.Store.Create(ctx, s.newKey, rec); err != nil {
			return nil, err
		}
		if err := s.Store.Delete(ctx, k); err != nil {
			return nil, err
		}
	}
	return s.Store.Update(ctx, k, now, p)
}

// Guards against a session that rotates while an admin tool flags a user's
// sessions: the new record, absent from the first listing, must be flagged
// too, or the account change it stands for is never applied to it.
func TestSetUserSessionsCatchesRotation(t *testing.T) {
	rs := &rotatingStore{Store: memstore.New()}
	f := newFixture(t, func(c *tether.Config) { c.Store = rs })
	f.do(t, "/login", "")
	n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "yes")
	if err != nil || n != 1 {
		t.Fatalf("SetUserSessions: got %d %v, want 1 (the rotated record)", n, err)
	}
	now := f.clock.Now()
	rec, err := rs.Store.Load(context.Background(), rs.newKey, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rec.Values["flag"]); got != `"yes"` {
		t.Fatalf("flag in the record a rotation created: got %q, want \"yes\"", got)
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
	_, c := f.do(t, "/incr", "") // n = 1
	_, c = f.do(t, "/login", c)
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

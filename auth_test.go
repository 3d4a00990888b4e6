package tether_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

func TestLoginRegenerates(t *testing.T) {
	f := newFixture(t, nil)
	_, pre := f.do(t, "/set?k=cart&v=3", "")
	f.store.reset()
	rec, post := f.do(t, "/login", pre)
	if post == "" || post == pre {
		t.Fatalf("login: got cookie %q, want a new one (was %q)", post, pre)
	}
	if got := f.store.calls(); got != 4 {
		t.Fatalf("store calls for login: got %d, want 4 (Load, Update of the old record, Create, Delete)", got)
	}
	if rec.Body.String() != "in" {
		t.Fatalf("login body: got %q", rec.Body.String())
	}
	rec, _ = f.do(t, "/get?k=cart", post)
	if got := rec.Body.String(); got != "user-1|" {
		// issue 11 row 4: an anonymous session's values do not survive login.
		t.Fatalf("after login: got %q, want the user and no anonymous data %q", got, "user-1|")
	}
	rec, c := f.do(t, "/get?k=cart", pre)
	if got := rec.Body.String(); got != "|" || c != "-" {
		t.Fatalf("pre-login cookie after login: got %q (cookie %q), want anonymous and expired", got, c)
	}
	for _, e := range []string{tether.EventSessionRegenerated, tether.EventLoginSuccess} {
		if !f.events.has(e) {
			t.Errorf("events %v: want %s", f.events.types(), e)
		}
	}
}

func TestRegenerateKeepsAbsoluteDeadline(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.IdleTimeout, c.AnonymousIdleTimeout = 8*time.Hour, 8*time.Hour })
	_, c := f.do(t, "/set?k=a&v=1", "")
	f.clock.Add(7 * time.Hour)
	_, c2 := f.do(t, "/regen", c)
	if c2 == c || c2 == "" {
		t.Fatalf("regenerate: got cookie %q, want a new one", c2)
	}
	f.clock.Add(61 * time.Minute)
	rec, _ := f.do(t, "/get?k=a", c2)
	if got := rec.Body.String(); got != "|" {
		t.Fatalf("8h01m after creation with a regenerated token: got %q, want the session expired", got)
	}
	if !f.events.has(tether.EventAbsoluteTimeout) {
		t.Fatalf("events %v: want %s", f.events.types(), tether.EventAbsoluteTimeout)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	rec, c2 := f.do(t, "/logout", c)
	if c2 != "-" {
		t.Fatalf("logout: got cookie %q, want expired", c2)
	}
	// issue 11 row 1: logout expires the session cookie only; Clear-Site-Data
	// "cookies" would wipe the device cookie and sibling apps' cookies.
	if got, ok := rec.Header()["Clear-Site-Data"]; ok {
		t.Fatalf("Clear-Site-Data: got %q, want no such header", got)
	}
	if f.mem.Len() != 0 {
		t.Fatalf("records after logout: got %d, want 0", f.mem.Len())
	}
	rec, _ = f.do(t, "/get", c)
	if rec.Body.String() != "|" {
		t.Fatalf("old cookie after logout: got %q, want anonymous", rec.Body.String())
	}
	if !f.events.has(tether.EventLogout) {
		t.Fatalf("events %v: want logout", f.events.types())
	}
}

func TestReauthenticate(t *testing.T) {
	f := newFixture(t, nil)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Reauthenticate(); err != nil {
			tether.DefaultErrorHandler(w, r, err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/reauth", nil))
	if rec.Code != 401 {
		t.Fatalf("anonymous reauth: got %d, want 401", rec.Code)
	}
	_, c := f.do(t, "/login", "")
	f.clock.Add(20 * time.Minute)
	req := httptest.NewRequest("POST", "/reauth", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	c2 := setCookie(rec, "sid")
	if rec.Code != 200 || c2 == "" || c2 == c {
		t.Fatalf("reauth: got %d, cookie %q; want 200 and a new token", rec.Code, c2)
	}
	var authAt, abs time.Time
	probe := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		authAt = s.AuthenticatedAt()
		_, abs = s.Deadlines()
	}))
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c2})
	probe.ServeHTTP(httptest.NewRecorder(), req)
	if !authAt.Equal(f.clock.Now()) {
		t.Fatalf("AuthenticatedAt after reauth: got %v, want %v", authAt, f.clock.Now())
	}
	if want := f.clock.Now().Add(-20 * time.Minute).Add(8 * time.Hour); !abs.Equal(want) {
		t.Fatalf("absolute deadline after reauth: got %v, want unchanged %v", abs, want)
	}
	if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
		t.Fatalf("old token after reauth: got %q, want anonymous", got.Body.String())
	}
}

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

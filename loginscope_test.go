package tether_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

// authMux answers /act?op=… with one authentication change (login as
// ?user=, reauth, role, regen) and, with ?after=, sets "after" to that value
// once the change is made; /seed sets a plain value and a login-scoped one.
func authMux(t *testing.T, f *fixture) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /seed", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Set("cart", "3"); err != nil {
			t.Errorf("Set cart: %v", err)
		}
		if err := s.Set(tether.LoginScopedKeyPrefix+"csrf", "planted"); err != nil {
			t.Errorf("Set csrf: %v", err)
		}
	})
	mux.HandleFunc("GET /act", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		q := r.URL.Query()
		var err error
		switch q.Get("op") {
		case "login":
			err = s.Login(q.Get("user"), "")
		case "reauth":
			err = s.Reauthenticate()
		case "role":
			err = s.ChangeRole("editor")
		case "regen":
			err = s.Regenerate()
		}
		if err != nil {
			t.Errorf("%s: %v", q.Get("op"), err)
		}
		if v := q.Get("after"); v != "" {
			if err := s.Set("after", v); err != nil {
				t.Errorf("Set after: %v", err)
			}
		}
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_, _ = w.Write([]byte(s.UserID() + "|" + s.GetString("cart") + "|" + s.GetString(tether.LoginScopedKeyPrefix+"csrf") + "|" + s.GetString("after")))
	})
	return f.m.Handler(mux)
}

// TestAuthChangeDropsValues is the regression test of issue 11 row 4: the
// CSRF token (a login-scoped value) and, for a new user, every anonymous
// value used to survive login, so a planted cookie fixed the victim's CSRF
// token and data.
func TestAuthChangeDropsValues(t *testing.T) {
	tests := []struct {
		name  string
		setup string // request made before seeding ("" for an anonymous session)
		act   string
		want  string // user|cart|csrf|after after the change
	}{
		{"anonymous then login: nothing survives", "", "/act?op=login&user=alice&after=x", "alice|||x"},
		{"another user logs in: nothing survives", "/act?op=login&user=bob", "/act?op=login&user=alice&after=x", "alice|||x"},
		{"same user logs in again: values kept, CSRF token dropped", "/act?op=login&user=alice", "/act?op=login&user=alice&after=x", "alice|3||x"},
		{"reauthenticate: values kept, CSRF token dropped", "/act?op=login&user=alice", "/act?op=reauth&after=x", "alice|3||x"},
		{"role change: values kept, CSRF token dropped", "/act?op=login&user=alice", "/act?op=role&after=x", "alice|3||x"},
		{"plain regenerate keeps everything", "/act?op=login&user=alice", "/act?op=regen&after=x", "alice|3|planted|x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			h := authMux(t, f)
			do := func(path, cookie string) (*httptest.ResponseRecorder, string) {
				req := httptest.NewRequest("GET", path, nil)
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: cookie})
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if c := setCookie(rec, f.m.CookieName()); c != "" {
					return rec, c
				}
				return rec, cookie
			}
			var c string
			if tt.setup != "" {
				_, c = do(tt.setup, "")
			}
			_, c = do("/seed", c)
			if rec, _ := do("/get", c); !strings.HasSuffix(rec.Body.String(), "|3|planted|") {
				t.Fatalf("before the change: got %q, want the seeded values", rec.Body.String())
			}
			_, c = do(tt.act, c)
			if rec, _ := do("/get", c); rec.Body.String() != tt.want {
				t.Fatalf("after %s: got %q, want %q", tt.act, rec.Body.String(), tt.want)
			}
		})
	}
}

// TestLoginDropsValuesOfTheSameRequest: values set before Login in the
// request that logs in are dropped with the rest (issue 11 row 4), and a
// value another request stored on the old record meanwhile is not carried
// over either.
func TestLoginDropsValuesOfTheSameRequest(t *testing.T) {
	f := newFixture(t, nil)
	var c string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.GetString("x") // load the record before the concurrent write
		// Another request stores a value on the old record meanwhile.
		req := httptest.NewRequest("GET", "/set?k=late&v=1", nil)
		req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
		f.h.ServeHTTP(httptest.NewRecorder(), req)
		if err := s.Set("early", "1"); err != nil {
			t.Errorf("Set: %v", err)
		}
		if _, err := s.Incr(r.Context(), "n", 1); err != nil {
			t.Errorf("Incr: %v", err)
		}
		if err := s.Login("alice", ""); err != nil {
			t.Errorf("Login: %v", err)
		}
		if n, err := s.Incr(r.Context(), "n", 1); err != nil || n != 1 {
			t.Errorf("Incr after Login: got %d, %v; want 1, nil", n, err)
		}
	})
	h := f.m.Handler(mux)
	_, c = f.do(t, "/set?k=cart&v=3", "")
	req := httptest.NewRequest("GET", "/login", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	post := setCookie(rec, f.m.CookieName())
	if post == "" || post == "-" {
		t.Fatalf("login: got cookie %q, want a new token", post)
	}
	var keys []string
	probe := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = tether.FromContext(r.Context()).Keys()
	}))
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: post})
	probe.ServeHTTP(httptest.NewRecorder(), req)
	if len(keys) != 1 || keys[0] != "n" {
		t.Fatalf("keys after login: got %q, want [n] (only what was set after Login)", keys)
	}
}

// TestEndingSendsNoClearSiteData is the regression test of issue 11 row 1:
// Logout and Destroy expire the session cookie only, and no longer send
// Clear-Site-Data: "cookies", which wiped the device cookie and sibling
// apps' cookies.
func TestEndingSendsNoClearSiteData(t *testing.T) {
	for _, end := range []struct {
		name string
		fn   func(*tether.Session)
	}{
		{"Logout", (*tether.Session).Logout},
		{"Destroy", (*tether.Session).Destroy},
	} {
		t.Run(end.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/login", "")
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				end.fn(tether.FromContext(r.Context()))
			}))
			req := httptest.NewRequest("POST", "/end", nil)
			req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := setCookie(rec, f.m.CookieName()); got != "-" {
				t.Fatalf("session cookie: got %q, want expired", got)
			}
			if got, ok := rec.Header()["Clear-Site-Data"]; ok {
				t.Fatalf("Clear-Site-Data: got %q, want no such header", got)
			}
		})
	}
}

// A login that drops a new user's values keeps tether's own bookkeeping: a
// "remember me" choice made before Login in the login request (issue 11
// row 4 must not undo it).
func TestLoginKeepsPersistentChoice(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/set?k=cart&v=3", "")
	var mode tether.CookieMode
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.SetPersistent(true); err != nil {
			t.Errorf("SetPersistent: %v", err)
		}
		if err := s.Login("alice", ""); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	mux.HandleFunc("GET /mode", func(w http.ResponseWriter, r *http.Request) {
		mode = tether.FromContext(r.Context()).CookieMode()
	})
	h := f.m.Handler(mux)
	req := httptest.NewRequest("GET", "/login", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	post := setCookie(rec, f.m.CookieName())
	req = httptest.NewRequest("GET", "/mode", nil)
	req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: post})
	h.ServeHTTP(httptest.NewRecorder(), req)
	if mode != tether.CookiePersistent {
		t.Fatalf("cookie mode after login: got %v, want %v", mode, tether.CookiePersistent)
	}
	if got, _ := f.do(t, "/get?k=cart", post); got.Body.String() != "alice|" {
		t.Fatalf("values after login: got %q, want %q", got.Body.String(), "alice|")
	}
}

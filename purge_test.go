package tether_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// DeleteAll forwards to the wrapped store, so the fixture's Manager has a
// Purger.
func (c *countingStore) DeleteAll(ctx context.Context) (int, error) {
	return c.Store.(tether.Purger).DeleteAll(ctx)
}

// EndAllSessions ends the sessions of every user and the anonymous ones,
// with the same secrets (the cookies stay well-signed but name nothing).
func TestEndAllSessions(t *testing.T) {
	f := newFixture(t, nil)
	_, user := f.do(t, "/login", "")
	_, admin := f.do(t, "/login?role=admin", "")
	_, anon := f.do(t, "/set?k=cart&v=1", "")
	if user == "" || admin == "" || anon == "" {
		t.Fatalf("cookies: got %q %q %q, want three sessions", user, admin, anon)
	}
	n, err := f.m.EndAllSessions(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("EndAllSessions: got (%d, %v), want (3, nil)", n, err)
	}
	for name, c := range map[string]string{"user": user, "admin": admin, "anonymous": anon} {
		if got, _ := f.do(t, "/get?k=cart", c); got.Body.String() != "|" {
			t.Errorf("%s session after EndAllSessions: got %q, want a fresh anonymous one", name, got.Body.String())
		}
	}
	if f.mem.Len() != 0 {
		t.Fatalf("records left: got %d, want 0", f.mem.Len())
	}
	if list, err := f.m.UserSessions(context.Background(), "user-1"); err != nil || len(list) != 0 {
		t.Fatalf("UserSessions after EndAllSessions: got %d %v, want none", len(list), err)
	}
}

// unwrapping hides the optional interfaces of the store it wraps but
// exposes it with Unwrap, as a wrapper that times store calls does.
type unwrapping struct{ tether.Store }

func (u unwrapping) Unwrap() tether.Store { return u.Store }

// EndAllSessions finds the Purger behind wrappers that expose what they
// wrap, and answers ErrNoPurger, deleting nothing, when there is none.
func TestEndAllSessionsFindsPurger(t *testing.T) {
	cases := []struct {
		name string
		wrap func(tether.Store) tether.Store
		want error
	}{
		{"the store itself", func(s tether.Store) tether.Store { return s }, nil},
		{"behind two Unwrap wrappers", func(s tether.Store) tether.Store { return unwrapping{unwrapping{s}} }, nil},
		{"hidden without Unwrap", func(s tether.Store) tether.Store { return struct{ tether.Store }{s} }, tether.ErrNoPurger},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memstore.New()
			m, err := tether.New(tether.Config{Store: tc.wrap(mem), Secrets: [][]byte{secretA}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = tether.FromContext(r.Context()).Set("k", 1)
			})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			n, err := m.EndAllSessions(context.Background())
			wantN, wantLeft := 1, 0
			if tc.want != nil {
				wantN, wantLeft = 0, 1
			}
			if !errors.Is(err, tc.want) || n != wantN || mem.Len() != wantLeft {
				t.Fatalf("EndAllSessions: got (%d, %v) with %d records left, want (%d, %v) with %d", n, err, mem.Len(), wantN, tc.want, wantLeft)
			}
		})
	}
}

// A request that loaded its session before the purge and saves a change
// after it must not bring the session back (Guarantee 2): the change is
// refused as ErrSessionEnded, and the store stays empty.
func TestEndAllSessionsInFlightRequest(t *testing.T) {
	for _, path := range []string{"/set", "/regen", "/incr"} {
		t.Run(path, func(t *testing.T) {
			mem := memstore.New()
			m, err := tether.New(tether.Config{Store: mem, Secrets: [][]byte{secretA}})
			if err != nil {
				t.Fatal(err)
			}
			loaded, release := make(chan struct{}), make(chan struct{})
			var saveErr error
			mux := http.NewServeMux()
			mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
				_ = tether.FromContext(r.Context()).Login("user-1", "")
			})
			mux.HandleFunc("GET /slow/{op}", func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				_ = s.UserID() // loads the session
				close(loaded)
				<-release
				switch r.PathValue("op") {
				case "set":
					saveErr = s.Set("late", 1)
				case "regen":
					saveErr = s.Regenerate()
				case "incr":
					_, saveErr = s.Incr(r.Context(), "n", 1)
				}
			})
			h := m.Handler(mux)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
			cookie := setCookie(rec, m.CookieName())
			done := make(chan *httptest.ResponseRecorder)
			go func() {
				req := httptest.NewRequest("GET", "/slow"+path, nil)
				req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: cookie})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				done <- rec
			}()
			<-loaded
			if n, err := m.EndAllSessions(context.Background()); err != nil || n != 1 {
				t.Fatalf("EndAllSessions: got (%d, %v), want (1, nil)", n, err)
			}
			close(release)
			<-done
			if mem.Len() != 0 {
				t.Fatalf("records after the in-flight request saved: got %d, want 0 (err %v)", mem.Len(), saveErr)
			}
			if list, _ := m.UserSessions(context.Background(), "user-1"); len(list) != 0 {
				t.Fatalf("user-1's sessions: got %d, want 0", len(list))
			}
		})
	}
}

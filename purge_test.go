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

// A store without Purger: ErrNoPurger, and nothing deleted.
func TestEndAllSessionsNeedsPurger(t *testing.T) {
	mem := memstore.New()
	m, err := tether.New(tether.Config{Store: struct{ tether.Store }{mem}, Secrets: [][]byte{secretA}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := m.EndAllSessions(context.Background()); !errors.Is(err, tether.ErrNoPurger) || n != 0 {
		t.Fatalf("EndAllSessions: got (%d, %v), want (0, ErrNoPurger)", n, err)
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

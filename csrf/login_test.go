package csrf_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/memstore"
)

// TestTokenDroppedByAuthChange is the regression test of issue 11 row 4: a
// CSRF token issued before a login (one an attacker planted together with a
// session cookie) used to survive it and pass the check. Each
// authentication change now drops it, and the next Token is a new one.
func TestTokenDroppedByAuthChange(t *testing.T) {
	tests := []struct {
		name   string
		before string // path of a POST that signs in first ("" for none)
		change string // path of the POST that changes the authentication
	}{
		{"anonymous then login", "", "/login?user=alice"},
		{"login as another user", "/login?user=bob", "/login?user=alice"},
		{"login as the same user", "/login?user=alice", "/login?user=alice"},
		{"re-authentication", "/login?user=alice", "/reauth"},
		{"role change", "/login?user=alice", "/role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := csrf.New(csrf.Options{Manager: m, Exempt: []string{"/login"}})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
				tok, err := csrf.Token(r)
				if err != nil {
					t.Errorf("Token: %v", err)
				}
				_, _ = w.Write([]byte(tok))
			})
			mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
				if err := tether.FromContext(r.Context()).Login(r.URL.Query().Get("user"), ""); err != nil {
					t.Errorf("Login: %v", err)
				}
			})
			mux.HandleFunc("POST /reauth", func(w http.ResponseWriter, r *http.Request) {
				if err := tether.FromContext(r.Context()).Reauthenticate(); err != nil {
					t.Errorf("Reauthenticate: %v", err)
				}
			})
			mux.HandleFunc("POST /role", func(w http.ResponseWriter, r *http.Request) {
				if err := tether.FromContext(r.Context()).ChangeRole("admin"); err != nil {
					t.Errorf("ChangeRole: %v", err)
				}
			})
			mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("done")) })
			h := m.Handler(p.Handler(mux))

			var cookie string
			do := func(method, path, token string) *httptest.ResponseRecorder {
				t.Helper()
				req := httptest.NewRequest(method, path, nil)
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: cookie})
				}
				if token != "" {
					req.Header.Set(csrf.HeaderName, token)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				for _, c := range rec.Result().Cookies() {
					if c.Name == m.CookieName() {
						cookie = c.Value
					}
				}
				return rec
			}
			if tt.before != "" {
				if rec := do("POST", tt.before, ""); rec.Code != 200 {
					t.Fatalf("POST %s: got %d, want 200", tt.before, rec.Code)
				}
			}
			old := do("GET", "/csrf-token", "").Body.String()
			if rec := do("POST", "/transfer", old); rec.Code != 200 {
				t.Fatalf("transfer with the token before the change: got %d, want 200", rec.Code)
			}
			if rec := do("POST", tt.change, old); rec.Code != 200 {
				t.Fatalf("POST %s: got %d, want 200", tt.change, rec.Code)
			}
			if rec := do("POST", "/transfer", old); rec.Code != http.StatusForbidden {
				t.Fatalf("transfer with the token issued before %s: got %d, want 403", tt.change, rec.Code)
			}
			fresh := do("GET", "/csrf-token", "").Body.String()
			if len(fresh) != 64 || fresh == old {
				t.Fatalf("token after %s: got %q, want a new one (64 hex digits, not %q)", tt.change, fresh, old)
			}
			if rec := do("POST", "/transfer", fresh); rec.Code != 200 {
				t.Fatalf("transfer with the new token: got %d, want 200", rec.Code)
			}
		})
	}
}

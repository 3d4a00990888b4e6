// Package servemux is tether with nothing but the standard library: a JSON
// API on net/http's ServeMux with a login, a per-user counter and a logout.
//
// The wiring is two middleware around the mux, outermost first:
//
//	m.Handler(p.Handler(mux)) // tether.Manager: the session; csrf.Protector: the CSRF check
//
// Routes:
//
//	GET  /csrf-token  {"csrfToken":"…"}: the token to send back as X-CSRF-Token
//	POST /login       form username, password → {"user":"alice"} (401 if wrong)
//	GET  /me          {"user":"alice"} (401 when signed out)
//	POST /counter     {"count":n}, incremented atomically in the store (401 when signed out)
//	POST /logout      {"ok":true}: the session is deleted and its cookie expired
//
// Every POST needs the CSRF token (403 without it), /login included: a
// client first gets a token, which also starts its (anonymous) session.
//
// # Real use
//
// The tests use memstore. A server keeps sessions in SQLite (one instance)
// or Redis (several), with a secret of at least 32 random bytes:
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	// or: store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	h, err := servemux.New(m)
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(http.ListenAndServe(":8080", h))
package servemux

import (
	"encoding/json"
	"net/http"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/demo"
)

// New returns the app, wrapped in m's session middleware and a CSRF
// protector. It fails only if the CSRF protector cannot be built.
func New(m *tether.Manager) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r) // creates the session on first use
		if err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"csrfToken": tok})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if !demo.CheckPassword(r.PostFormValue("username"), r.PostFormValue("password")) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Wrong username or password"})
			return
		}
		s := tether.FromContext(r.Context())
		// Login issues a new token (the pre-login one dies at once) and
		// keeps the session's values, its CSRF token among them.
		if err := s.Login(demo.UserID, "user"); err != nil {
			m.Error(w, r, err)
			return
		}
		if err := s.Set("name", demo.User); err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"user": demo.User})
	})
	mux.Handle("GET /me", signedIn(m, func(w http.ResponseWriter, r *http.Request, s *tether.Session) {
		writeJSON(w, http.StatusOK, map[string]string{"user": s.GetString("name")})
	}))
	mux.Handle("POST /counter", signedIn(m, func(w http.ResponseWriter, r *http.Request, s *tether.Session) {
		n, err := s.Incr(r.Context(), "count", 1) // atomic in the store
		if err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int64{"count": n})
	}))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout() // record deleted, cookie expired
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	return m.Handler(p.Handler(mux)), nil
}

// signedIn runs h only for a signed-in session and answers 401 otherwise.
// A store outage answers 503 rather than looking like a signed-out user.
func signedIn(m *tether.Manager, h func(http.ResponseWriter, *http.Request, *tether.Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Err(); err != nil {
			m.Error(w, r, err)
			return
		}
		if s.UserID() == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Not signed in"})
			return
		}
		h(w, r, s)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

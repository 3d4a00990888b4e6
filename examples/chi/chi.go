// Package chiapp is tether on github.com/go-chi/chi/v5: the same JSON API
// as the servemux example, in chi's style.
//
// chi middleware has net/http's shape, func(http.Handler) http.Handler, so
// tether's session middleware and the CSRF protector plug in as they are:
//
//	r.Use(m.Handler, p.Handler) // session first, then the CSRF check
//
// and a chi group adds the signed-in check to the routes that need it.
// Handlers find their session with tether.FromContext(r.Context()).
//
// Routes:
//
//	GET  /csrf-token  {"csrfToken":"…"}: the token to send back as X-CSRF-Token
//	POST /login       form username, password → {"user":"alice"} (401 if wrong)
//	GET  /me          {"user":"alice"} (401 when signed out)
//	POST /counter     {"count":n}, incremented atomically in the store (401 when signed out)
//	POST /logout      {"ok":true}: the session is deleted and its cookie expired
//
// # Real use
//
// The tests use memstore. A server keeps sessions in Redis (several
// instances) or SQLite (one), with a secret of at least 32 random bytes:
//
//	store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	// or: store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	h, err := chiapp.New(m)
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(http.ListenAndServe(":8080", h))
package chiapp

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/demo"
)

// New returns the chi router with m's session middleware and a CSRF
// protector. It fails only if the CSRF protector cannot be built.
func New(m *tether.Manager) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(m.Handler, p.Handler)

	r.Get("/csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r) // creates the session on first use
		if err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"csrfToken": tok})
	})
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
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
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout() // record deleted, cookie expired
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	r.Group(func(r chi.Router) {
		r.Use(signedIn(m))
		r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"user": tether.FromContext(r.Context()).GetString("name")})
		})
		r.Post("/counter", func(w http.ResponseWriter, r *http.Request) {
			n, err := tether.FromContext(r.Context()).Incr(r.Context(), "count", 1) // atomic in the store
			if err != nil {
				m.Error(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]int64{"count": n})
		})
	})
	return r, nil
}

// signedIn is chi middleware that lets only signed-in sessions through and
// answers 401 otherwise. A store outage answers 503 rather than looking like
// a signed-out user.
func signedIn(m *tether.Manager) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
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
			next.ServeHTTP(w, r)
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

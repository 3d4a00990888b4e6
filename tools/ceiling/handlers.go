package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	prefix = "ceiling:"
	ttl    = 30 * time.Minute
)

// profileJSON is what tether's GET /profile answers for the demo user,
// byte for byte (json.Encoder ends it with a newline).
var profileJSON = []byte(`{"userId":"user-1001","username":"alice"}` + "\n")

// apiHeaders is the header set of tether's JSON answers at steady state
// (DESIGN "Contract additions", internal/server/apiheaders.go): the API set
// of the OWASP REST Security Cheat Sheet, Content-Type and Vary. Each value
// is a ready slice shared by every response (net/http only reads them).
// TestCeilingSendsTetherAPIHeaders compares it with what tether sends.
var apiHeaders = []header{
	{"Cache-Control", []string{"no-store"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"Content-Type", []string{"application/json; charset=utf-8"}},
	{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Vary", []string{"Cookie"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
}

type header struct {
	name string
	vals []string
}

// writeJSON sends body with the API header set; sid, when not empty, is set
// as the session cookie (only at login: in its default rolling mode tether
// re-sends the cookie only when the idle deadline moved by a minute or
// more, which a 12 s load on one session never sees).
func writeJSON(w http.ResponseWriter, code int, body []byte, sid string) {
	h := w.Header()
	for _, f := range apiHeaders {
		h[f.name] = f.vals
	}
	if sid != "" {
		h["Set-Cookie"] = []string{"sid=" + sid + "; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax"}
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

var (
	unauth = []byte(`{"error":"Not authenticated"}` + "\n")
	fail   = []byte(`{"error":"Session store unavailable"}` + "\n")
)

// newMux is the ceiling's routes on rdb.
func newMux(rdb *redis.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		if err != nil || c.Value == "" {
			writeJSON(w, http.StatusUnauthorized, unauth, "")
			return
		}
		val, err := rdb.Get(r.Context(), prefix+c.Value).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			writeJSON(w, http.StatusUnauthorized, unauth, "")
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, fail, "")
		default:
			writeJSON(w, http.StatusOK, val, "")
		}
	})
	mux.HandleFunc("GET /views", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		if err != nil || c.Value == "" {
			writeJSON(w, http.StatusUnauthorized, unauth, "")
			return
		}
		key := prefix + c.Value
		raw, err := rdb.Get(r.Context(), key).Bytes()
		if errors.Is(err, redis.Nil) {
			writeJSON(w, http.StatusUnauthorized, unauth, "")
			return
		} else if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, fail, "")
			return
		}
		m := map[string]any{}
		_ = json.Unmarshal(raw, &m)
		n, _ := m["views"].(float64)
		m["views"] = n + 1
		out, _ := json.Marshal(m)
		if err := rdb.Set(r.Context(), key, out, ttl).Err(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, fail, "")
			return
		}
		resp, _ := json.Marshal(map[string]int{"views": int(n + 1)})
		writeJSON(w, http.StatusOK, append(resp, '\n'), "")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Password string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil ||
			in.Username != "alice" || in.Password != "correct-horse" {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"error":"Invalid credentials"}`+"\n"), "")
			return
		}
		var b [32]byte
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if err := rdb.Set(r.Context(), prefix+id, profileJSON, ttl).Err(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, fail, "")
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"ok":true,"user":"alice"}`+"\n"), id)
	})
	return mux
}

// Command ceiling is a measuring tool, not product code: the floor peer's
// session server (one Redis GET per GET /profile, no signing, no TTL
// refresh) that also sends exactly the response headers the reference
// server sends on GET /profile: the security headers of secheaders.Default,
// Cache-Control, Vary and the rolling Set-Cookie. The header values are
// rendered once at start and set per response without computing anything,
// the cheapest way net/http allows, so its throughput is the ceiling for any
// server that sends those headers, whatever it does about sessions.
//
//	GET  /profile  cookie sid -> one GET ceiling:<sid> -> stored JSON (401 if missing)
//	GET  /views    GET, views++, SET … EX 1800 (two round trips, as floor)
//	POST /login    alice / correct-horse -> random id, SET ceiling:<id> EX 1800, cookie sid
//
// Run: go run ./tools/ceiling -addr 127.0.0.1:3111 -redis 127.0.0.1:6390
// (loopback only), then ../shared/peers/bench-profile.sh http://127.0.0.1:3111.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/secheaders"
)

const (
	prefix = "ceiling:"
	ttl    = 30 * time.Minute
)

var profileJSON = []byte(`{"userId":"user-1001","username":"alice"}`)

// fixed is the reference server's header set for a JSON response, rendered
// once: each name with a ready value, shared by every response (net/http
// only reads them).
var fixed []header

type header struct {
	name string
	vals []string
}

func renderHeaders() {
	rec := httptest.NewRecorder()
	secheaders.Default(false).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Vary", "Cookie")
		w.WriteHeader(http.StatusOK)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/profile", nil))
	for name, vals := range rec.Header() {
		fixed = append(fixed, header{name, append([]string(nil), vals...)})
	}
}

func writeJSON(w http.ResponseWriter, code int, body []byte, sid string) {
	h := w.Header()
	for _, f := range fixed {
		h[f.name] = f.vals
	}
	if sid != "" {
		h["Set-Cookie"] = []string{"sid=" + sid + "; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax"}
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3111", "listen address (loopback)")
	redisAddr := flag.String("redis", "127.0.0.1:6390", "Redis address")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("ceiling: -addr %q: want a loopback address (a measuring tool)", *addr)
	}
	renderHeaders()
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		log.Fatalf("ceiling: Redis at %s: %v (start it, e.g. ../shared/peers/peers.sh start)", *redisAddr, err)
	}
	unauth := []byte(`{"error":"Not authenticated"}`)
	fail := []byte(`{"error":"Session store unavailable"}`)
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
			writeJSON(w, http.StatusOK, val, c.Value)
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
		writeJSON(w, http.StatusOK, resp, c.Value)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Password string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil ||
			in.Username != "alice" || in.Password != "correct-horse" {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"error":"Invalid credentials"}`), "")
			return
		}
		var b [32]byte
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if err := rdb.Set(r.Context(), prefix+id, profileJSON, ttl).Err(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, fail, "")
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"ok":true,"user":"alice"}`), id)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("ceiling listening on %s (%d fixed headers)", *addr, len(fixed))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	_ = rdb.Close()
}

// Command scs-pg is a MEASURING TOOL, not product code: the routes of the
// scs peer in ../shared/peers/go-floor/cmd/scs (POST /login, GET /profile,
// GET /views, POST /logout), built on github.com/alexedwards/scs/v2 with its
// PostgreSQL store github.com/alexedwards/scs/pgxstore, so that tether with
// SESSION_STORE=postgres can be measured against it in one run
// (scripts/bench-pg.sh).
//
// Settings as the Redis scs peer: IdleTimeout 30m, Lifetime 8h, cookie 'sid'
// (HttpOnly, SameSite=Lax, persistent), RenewToken on login. With
// IdleTimeout set, scs re-commits the session (an INSERT … ON CONFLICT DO
// UPDATE) on every request that loads one, so GET /profile is a SELECT and
// an upsert. It is its own module so that tether's module does not depend
// on scs. It creates its schema and the table scs documents in the schema
// named by the URL's search_path (default scs_peer).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3103", "listen address (loopback)")
	dbURL := flag.String("db", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=scs_peer", "PostgreSQL URL; the schema is the search_path")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	cfg, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		log.Fatal("-db is not a valid PostgreSQL URL")
	}
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	if schema == "" {
		schema = "scs_peer"
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	// scs's documented schema for pgxstore.
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS "` + schema + `"`,
		`CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			log.Fatalf("schema: %v", err)
		}
	}
	cancel()

	sm := scs.New()
	sm.Store = pgxstore.New(pool)
	sm.IdleTimeout = 30 * time.Minute
	sm.Lifetime = 8 * time.Hour
	sm.Cookie.Name = "sid"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = false // development (plain HTTP on loopback)
	sm.Cookie.Persist = true

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Password string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil ||
			in.Username != "alice" || in.Password != "correct-horse" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Invalid credentials"})
			return
		}
		if err := sm.RenewToken(r.Context()); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal server error"})
			return
		}
		sm.Put(r.Context(), "userId", "user-1001")
		sm.Put(r.Context(), "username", "alice")
		sm.Put(r.Context(), "loginAt", time.Now().UnixMilli())
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "user": "alice"})
	})
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		uid := sm.GetString(r.Context(), "userId")
		if uid == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Not authenticated"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"userId": uid, "username": sm.GetString(r.Context(), "username")})
	})
	mux.HandleFunc("GET /views", func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), "views") + 1
		sm.Put(r.Context(), "views", n)
		writeJSON(w, http.StatusOK, map[string]any{"views": n})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal server error"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})

	srv := &http.Server{Addr: *addr, Handler: sm.LoadAndSave(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("scs-pg listening on %s", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	pool.Close()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

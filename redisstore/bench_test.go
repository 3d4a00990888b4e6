package redisstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// benchServer is the middleware on a real Redis with one logged-in session.
func benchServer(b *testing.B, h http.HandlerFunc) (http.Handler, *http.Request) {
	srv := redistest.Start(b, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { rdb.Close() })
	store, _ := redisstore.New(rdb, redisstore.Options{})
	_ = store.Preload(context.Background())
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		b.Fatal(err)
	}
	login := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("user-1001", "")
	})).ServeHTTP(login, httptest.NewRequest("POST", "/login", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(login.Result().Cookies()[0])
	return m.Handler(h), req
}

// BenchmarkProfile is GET /profile's path: verify, one EVALSHA, respond.
func BenchmarkProfile(b *testing.B) {
	h, req := benchServer(b, func(w http.ResponseWriter, r *http.Request) {
		if tether.FromContext(r.Context()).UserID() == "" {
			b.Fatal("not logged in")
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discard{h: http.Header{}}, req)
	}
}

// BenchmarkViews is GET /views's path: one EVALSHA that loads and increments.
func BenchmarkViews(b *testing.B) {
	h, req := benchServer(b, func(w http.ResponseWriter, r *http.Request) {
		if _, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discard{h: http.Header{}}, req)
	}
}

// BenchmarkStoreLoad is the store alone.
func BenchmarkStoreLoad(b *testing.B) {
	srv := redistest.Start(b, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	store, _ := redisstore.New(rdb, redisstore.Options{})
	ctx, now := context.Background(), time.Now()
	_ = store.Create(ctx, "k", &tether.Record{Values: map[string]json.RawMessage{"username": json.RawMessage(`"alice"`)},
		UserID: "user-1001", CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Load(ctx, "k", time.Now(), time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

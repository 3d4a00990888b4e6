package redisstore_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
)

// BenchmarkEncryption is GET /profile and GET /views on a real Redis with
// tether.Config.EncryptionKeys off and on, side by side (benchstat -col
// /keys). With keys, /views is two Redis calls (a read, then the
// compare-and-set) instead of one. cpu-ns/op is the test process's CPU
// time per request (Redis's own is not counted), steadier than sec/op on
// a shared machine.
func BenchmarkEncryption(b *testing.B) {
	srv := redistest.Start(b, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	store, _ := redisstore.New(rdb, redisstore.Options{})
	_ = store.Preload(context.Background())
	paths := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"profile", func(w http.ResponseWriter, r *http.Request) {
			if tether.FromContext(r.Context()).UserID() == "" {
				panic("not logged in")
			}
		}},
		{"views", func(w http.ResponseWriter, r *http.Request) {
			if _, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1); err != nil {
				panic(err)
			}
		}},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			for _, keys := range []string{"off", "on"} {
				b.Run("keys="+keys, func(b *testing.B) {
					cfg := tether.Config{Store: store, Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}}
					if keys == "on" {
						cfg.EncryptionKeys = encKeys(2)
					}
					m, err := tether.New(cfg)
					if err != nil {
						b.Fatal(err)
					}
					login := httptest.NewRecorder()
					m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						s := tether.FromContext(r.Context())
						_ = s.Login("user-1001", "")
						_ = s.Set("ip", "203.0.113.7")
						_ = s.Set("userAgent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
						_ = s.Set("csrf", "q3v8Yb0m1lZJc6dJ0aLHc2d0m3qS3uUeKQf9lJ1zR0w")
						_ = s.Set("seen", 1764633600)
					})).ServeHTTP(login, httptest.NewRequest("POST", "/login", nil))
					req := httptest.NewRequest("GET", "/", nil)
					req.AddCookie(login.Result().Cookies()[0])
					h := m.Handler(p.h)
					b.ReportAllocs()
					cpu := processCPU()
					for b.Loop() {
						h.ServeHTTP(&discard{h: http.Header{}}, req)
					}
					b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

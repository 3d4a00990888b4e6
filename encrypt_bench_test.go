package tether_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// BenchmarkEncryption is the middleware's hot paths with Config.EncryptionKeys
// off and on, side by side (compare with benchstat -col /keys): GET /profile
// (verify the cookie, load and open the session) and GET /views (load and
// increment: one store call without keys; a read and a compare-and-set with
// them). The session holds what the reference server keeps after a login:
// the user, IP, user agent, CSRF token and last-seen time. On memstore, so
// the figures are the CPU cost of encryption; a networked store adds one
// round trip to /views. cpu-ns/op is the process's CPU time per request
// (GC included), steadier than sec/op on a shared machine.
func BenchmarkEncryption(b *testing.B) {
	paths := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"profile", func(w http.ResponseWriter, r *http.Request) {
			if tether.FromContext(r.Context()).UserID() == "" {
				panic("not logged in")
			}
			_, _ = w.Write([]byte("{}"))
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
					cfg := tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA}}
					if keys == "on" {
						cfg.EncryptionKeys = [][]byte{newEncKey(b), newEncKey(b)}
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
					req.AddCookie(&http.Cookie{Name: "sid", Value: setCookie(login, "sid")})
					h := m.Handler(p.h)
					b.ReportAllocs()
					cpu := processCPU()
					for b.Loop() {
						h.ServeHTTP(&nopWriter{h: http.Header{}}, req)
					}
					b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

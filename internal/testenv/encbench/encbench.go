// Package encbench is the body of the BenchmarkEncryption benchmarks (root
// package on memstore, redisstore on a real Redis): the middleware's hot
// paths with tether.Config.EncryptionKeys off and on, side by side
// (benchstat -col /keys). Test code only.
package encbench

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/cputime"
)

// Run benchmarks GET /profile (verify the cookie, load and open the
// session) and GET /views (load and increment: one store call without
// keys; a read and a compare-and-set with them) on store, signing with
// secret. The session holds what the reference server keeps after a login:
// the user, IP, user agent, CSRF token and last-seen time. cpu-ns/op is
// the process's CPU time per request (GC included; a networked store's own
// CPU is not counted).
func Run(b *testing.B, store tether.Store, secret []byte) {
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
					cfg := tether.Config{Store: store, Secrets: [][]byte{secret}}
					if keys == "on" {
						cfg.EncryptionKeys = [][]byte{newKey(), newKey()}
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
					for _, c := range login.Result().Cookies() {
						if c.Name == m.CookieName() {
							req.AddCookie(c)
						}
					}
					h := m.Handler(p.h)
					b.ReportAllocs()
					cpu := cputime.Process()
					for b.Loop() {
						h.ServeHTTP(&discard{h: http.Header{}}, req)
					}
					b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

// newKey is a random encryption key.
func newKey() []byte {
	k := make([]byte, tether.EncryptionKeyBytes)
	_, _ = rand.Read(k)
	return k
}

// discard is a ResponseWriter that keeps nothing but its header map.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

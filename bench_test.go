package tether_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// nopWriter is a ResponseWriter that discards everything, so benchmarks
// measure the middleware rather than the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchManager(b *testing.B) (*tether.Manager, string) {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA, secretB}})
	if err != nil {
		b.Fatal(err)
	}
	login := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("user-1001", "")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	return m, setCookie(rec, "sid")
}

// BenchmarkReadSession is the hot path of GET /profile: verify the cookie,
// load the session, refresh the cookie.
func BenchmarkReadSession(b *testing.B) {
	m, c := benchManager(b)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tether.FromContext(r.Context()).UserID() == "" {
			b.Fatal("not logged in")
		}
		_, _ = w.Write([]byte("{}"))
	}))
	req := httptest.NewRequest("GET", "/profile", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(&nopWriter{h: http.Header{}}, req)
	}
}

// BenchmarkIncr is the hot path of GET /views: load plus an atomic increment.
func BenchmarkIncr(b *testing.B) {
	m, c := benchManager(b)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1); err != nil {
			b.Fatal(err)
		}
	}))
	req := httptest.NewRequest("GET", "/views", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(&nopWriter{h: http.Header{}}, req)
	}
}

// BenchmarkNoCookie is a request that never touches the store.
func BenchmarkNoCookie(b *testing.B) {
	m, _ := benchManager(b)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&nopWriter{h: http.Header{}}, req)
	}
}

package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/cputime"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/metrics"
)

// benchServer builds the reference server as serve does (metrics, security
// headers, CSRF, binding, account re-check), on memstore so that the
// benchmark measures the server's own layers without a network round trip.
func benchServer(b *testing.B) (http.Handler, *http.Cookie) {
	b.Helper()
	mets := metrics.New()
	s := testServer(b, tether.Config{Store: mets.Store(memstore.New()), OnEvent: func(e tether.Event) { mets.Event(e.Type) }},
		Options{Metrics: mets, MetricsOnMain: true})
	h := s.Handler()
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"alice","password":"correct-horse"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "bench/1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sid" {
			return h, c
		}
	}
	b.Fatalf("login: %d %s", rec.Code, rec.Body)
	return nil, nil
}

// discard is a ResponseWriter that keeps nothing, so the benchmark does not
// measure httptest.ResponseRecorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkServerProfile is GET /profile through every layer of the
// reference server, logged in; BenchmarkServerViews is GET /views.
func BenchmarkServerProfile(b *testing.B) { benchRoute(b, "/profile") }
func BenchmarkServerViews(b *testing.B)   { benchRoute(b, "/views") }

func benchRoute(b *testing.B, path string) {
	h, c := benchServer(b)
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("User-Agent", "bench/1")
	r.AddCookie(c)
	w := &discard{}
	check := httptest.NewRecorder()
	h.ServeHTTP(check, r)
	if check.Code != 200 {
		b.Fatalf("GET %s: got %d %s", path, check.Code, check.Body)
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		w.h = http.Header{}
		h.ServeHTTP(w, r)
	}
	// CPU time per request: steadier than sec/op on a shared machine,
	// where wall-clock time includes waiting for a core.
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}

package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestStoreLookups(t *testing.T) {
	m := New()
	s := m.Store(memstore.New())
	ctx, now := context.Background(), time.Now()
	rec := &tether.Record{Values: map[string]json.RawMessage{}, CreatedAt: now, IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(time.Hour)}
	_ = s.Create(ctx, "k", rec)
	_, _ = s.Load(ctx, "k", now, now.Add(time.Minute))
	_, _ = s.Load(ctx, "missing", now, now.Add(time.Minute))
	_, _ = s.Load(ctx, "k", now.Add(2*time.Hour), now.Add(3*time.Hour))
	if _, ok := s.(tether.UserIndex); !ok {
		t.Fatal("wrapped store lost its UserIndex")
	}
	out := scrape(t, m)
	for _, want := range []string{
		`tether_session_lookups_total{result="hit"} 1`,
		`tether_session_lookups_total{result="miss"} 1`,
		`tether_session_lookups_total{result="expired"} 1`,
		`tether_store_duration_seconds_count{op="create"} 1`,
		`tether_store_duration_seconds_count{op="load"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestMiddlewareBoundsLabels(t *testing.T) {
	m := New()
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/known" || strings.HasPrefix(r.URL.Path, "/items/") {
			w.WriteHeader(http.StatusTeapot)
		}
	}), "GET /known", "DELETE /items/{id}")
	for _, p := range []string{"/known", "/a", "/b", "/c", "/items/1", "/items/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("FROB", "/known", nil))
	out := scrape(t, m)
	for _, want := range []string{
		`tether_http_request_duration_seconds_count{code="418",method="GET",route="/known"} 1`,
		`tether_http_request_duration_seconds_count{code="200",method="GET",route="other"} 3`,
		`tether_http_request_duration_seconds_count{code="418",method="other",route="/known"} 1`,
		`tether_http_request_duration_seconds_count{code="418",method="GET",route="/items/{id}"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

// labelPatterns are the reference server's kinds of pattern: anchored root,
// literals, wildcards, one path under two methods, a literal more specific
// than a wildcard, and a subtree.
var labelPatterns = []string{"GET /{$}", "GET /profile", "POST /login", "GET /sessions", "DELETE /sessions/{id}",
	"POST /sessions/revoke-others", "GET /admin/users/{name}/sessions", "DELETE /admin/users/{name}/sessions",
	"DELETE /admin/users/{name}/sessions/{id}", "GET /static/", "/healthz"}

func TestRouteLabels(t *testing.T) {
	l := newRouteLabels(labelPatterns)
	cases := []struct{ method, target, want string }{
		{"GET", "/", "/{$}"},
		{"GET", "/profile", "/profile"},
		{"POST", "/profile", "/profile"}, // a 405 is still the route's
		{"HEAD", "/healthz", "/healthz"},
		{"GET", "/sessions", "/sessions"},
		{"DELETE", "/sessions/0123456789abcdef", "/sessions/{id}"},
		{"DELETE", "/sessions/fedcba9876543210", "/sessions/{id}"},
		{"POST", "/sessions/revoke-others", "/sessions/revoke-others"},
		{"GET", "/admin/users/bob/sessions", "/admin/users/{name}/sessions"},
		{"DELETE", "/admin/users/bob/sessions", "/admin/users/{name}/sessions"},
		{"DELETE", "/admin/users/bob/sessions/0123456789abcdef", "/admin/users/{name}/sessions/{id}"},
		{"GET", "/static/app.js", "/static/"},
		{"GET", "/static", "other"}, // a redirect to /static/
		{"GET", "/nope/123", "other"},
		{"GET", "/profile/", "other"},
		{"GET", "//profile", "other"},                 // a redirect to the cleaned path
		{"GET", "/sessions%2Frevoke-others", "other"}, // one segment for the ServeMux
		{"GET", "/pro%66ile", "/profile"},             // the same segments
		{"GET", "/sessions/a/b", "other"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := l.of(r); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}

// The map of literal paths is a shortcut: it must answer as the ServeMux.
func TestRouteLabelsShortcutAgreesWithServeMux(t *testing.T) {
	l := newRouteLabels(labelPatterns)
	targets := []string{"/", "//", "/profile", "/profile/", "/Profile", "/pro%66ile", "/profile%2F", "/./profile", "/a/../profile",
		"/sessions", "/sessions/", "/sessions/x", "/sessions/revoke-others", "/sessions%2Frevoke-others", "/healthz",
		"/static/", "/static", "/admin/users/bob/sessions", "/admin/users//sessions", "/{$}", "/login?x=1", "*"}
	for _, method := range []string{"GET", "POST", "DELETE", "CONNECT", "FROB"} {
		for _, target := range targets {
			r := httptest.NewRequest(method, "http://example.com"+strings.TrimPrefix(target, "*"), nil)
			if got, want := l.of(r), l.slow(r); got != want {
				t.Errorf("%s %s: shortcut %q, ServeMux %q", method, target, got, want)
			}
		}
	}
}

func TestRouteLabelsRefuseAHost(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a pattern with a host: got no panic")
		}
	}()
	newRouteLabels([]string{"GET example.com/x"})
}

// BenchmarkRouteLabel is the labelling every request pays: a literal path
// (most requests), one with an id, and an unknown one.
func BenchmarkRouteLabel(b *testing.B) {
	l := newRouteLabels(labelPatterns)
	for _, target := range []string{"/profile", "/sessions/0123456789abcdef", "/nope/123"} {
		r := httptest.NewRequest("GET", target, nil)
		b.Run(strings.ReplaceAll(target[1:], "/", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = l.of(r)
			}
		})
	}
}

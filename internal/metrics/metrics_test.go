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
	m := New("/known")
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/known" {
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	for _, p := range []string{"/known", "/a", "/b", "/c"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("FROB", "/known", nil))
	out := scrape(t, m)
	for _, want := range []string{
		`tether_http_request_duration_seconds_count{code="418",method="GET",route="/known"} 1`,
		`tether_http_request_duration_seconds_count{code="200",method="GET",route="other"} 3`,
		`tether_http_request_duration_seconds_count{code="418",method="other",route="/known"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

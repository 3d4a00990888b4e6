package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/metrics"
)

// Wrap the session store, time the routes by their patterns, and serve
// the metrics.
func Example() {
	m := metrics.New()
	store := m.Store(memstore.New()) // pass as tether.Config.Store

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A session lookup for a cookie the store does not know.
		_, _ = store.Load(r.Context(), "unknown", time.Now(), time.Now().Add(time.Hour))
	})
	h := m.Middleware(mux, "GET /items/{id}")
	for _, path := range []string{"/items/1", "/items/2", "/no/such/page"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil).WithContext(context.Background()))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "tether_session_lookups_total") || strings.HasPrefix(line, "tether_http_request_duration_seconds_count") {
			fmt.Println(line)
		}
	}
	// Output:
	// tether_http_request_duration_seconds_count{code="200",method="GET",route="/items/{id}"} 2
	// tether_http_request_duration_seconds_count{code="404",method="GET",route="other"} 1
	// tether_session_lookups_total{result="miss"} 2
}

package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// otherwise registers the inner router's paths (once each, duplicates and
// "/" included) for the same handler as its catch-all, so that they match
// exactly; every other path still reaches the catch-all.
func TestOtherwiseRegistersInnerPaths(t *testing.T) {
	var patterns []string
	inner := newRouter(&patterns)
	inner.route("GET", "/profile", func(http.ResponseWriter, *http.Request) {})
	inner.route("POST", "/login", func(http.ResponseWriter, *http.Request) {})
	inner.handle("GET", "/login", http.NotFoundHandler())
	inner.route("DELETE", "/sessions/{id}", func(http.ResponseWriter, *http.Request) {})
	inner.route("GET", "/{$}", func(http.ResponseWriter, *http.Request) {})
	var top []string
	rt := newRouter(&top)
	rt.route("GET", "/healthz", func(http.ResponseWriter, *http.Request) {})
	chain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	rt.otherwise(chain, pathsOf(patterns)...)
	cases := []struct {
		method, path, pattern string
		code                  int
	}{
		{"GET", "/profile", "/profile", 299},
		{"PATCH", "/profile", "/profile", 299},
		{"GET", "/login", "/login", 299},
		{"DELETE", "/sessions/abc", "/sessions/{id}", 299},
		{"GET", "/", "/{$}", 299},
		{"GET", "/nowhere", "/", 299},
		{"GET", "/profile/", "/", 299},
		{"GET", "/healthz", "GET /healthz", 200},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if _, pattern := rt.mux.Handler(r); pattern != tc.pattern {
				t.Errorf("pattern: got %q, want %q", pattern, tc.pattern)
			}
			rec := httptest.NewRecorder()
			rt.mux.ServeHTTP(rec, r)
			if rec.Code != tc.code {
				t.Errorf("status: got %d, want %d", rec.Code, tc.code)
			}
		})
	}
}

package tether_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetherhq/tether"
)

func TestHandlerThatWritesNothingStillSaves(t *testing.T) {
	f := newFixture(t, nil)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("a", 1)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if setCookie(rec, "sid") == "" || f.mem.Len() != 1 {
		t.Fatalf("silent handler: got cookie %q and %d records, want a saved session", setCookie(rec, "sid"), f.mem.Len())
	}
}

// A save that fails replaces the handler's response with an error, and drops
// the headers the handler prepared for it; the headers outer middleware set
// before the Manager (security headers) stay, so a custom HTML error page
// still carries its Content-Security-Policy and X-Frame-Options.
func TestFailedSaveKeepsOuterHeaders(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<h1>Try again</h1>"))
		}
	})
	_, c := f.do(t, "/login", "")
	inner := f.h
	f.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		inner.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/save", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("k", "v")
		w.Header().Set("Location", "/done")
		w.Header().Set("X-Handler", "saved")
		w.WriteHeader(http.StatusSeeOther)
	})
	inner = f.m.Handler(mux)
	f.store.down.Store(true)
	rec, _ := f.do(t, "/save", c)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status: got %d, want 503", rec.Code)
	}
	h := rec.Result().Header
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'",
		"Content-Type": "text/html; charset=utf-8", "Location": "", "X-Handler": "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

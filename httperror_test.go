package tether_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{tether.ErrDuplicateCookie, http.StatusBadRequest},
		{tether.ErrCookieTooLarge, http.StatusRequestHeaderFieldsTooLarge},
		{tether.ErrNotAuthenticated, http.StatusUnauthorized},
		{tether.ErrSessionEnded, http.StatusUnauthorized},
		{tether.ErrSessionDestroyed, http.StatusUnauthorized},
		{tether.ErrValueTooLarge, http.StatusRequestEntityTooLarge},
		{tether.ErrNotInteger, http.StatusInternalServerError},
		{tether.ErrExists, http.StatusInternalServerError},
		// A handler behind no Manager is a wiring bug, not a store outage
		// (it used to answer 503 and invite retries that could not help).
		{tether.ErrNoSession, http.StatusInternalServerError},
		{tether.ErrStoreUnavailable, http.StatusServiceUnavailable},
		{fmt.Errorf("load: %w", tether.ErrStoreUnavailable), http.StatusServiceUnavailable},
		// A change after the response started is a bug in the handler.
		{tether.ErrResponseStarted, http.StatusInternalServerError},
		// A fresh key already taken is a broken random source even when it
		// comes back wrapped as a store failure.
		{fmt.Errorf("%w: %w", tether.ErrStoreUnavailable, tether.ErrExists), http.StatusInternalServerError},
		// Errors tether does not know are bugs, not outages: no 503 that
		// invites retries that cannot help (it used to be 503).
		{errors.New("json: unsupported type: chan int"), http.StatusInternalServerError},
		{fmt.Errorf("%w (the Manager of cookie %q)", tether.ErrNoSession, "admin"), http.StatusInternalServerError},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			status, msg := tether.StatusOf(tc.err)
			if status != tc.status {
				t.Fatalf("StatusOf(%v): got %d, want %d", tc.err, status, tc.status)
			}
			if msg == "" || strings.Contains(msg, "tether:") {
				t.Fatalf("StatusOf(%v): got message %q, want a client-facing one", tc.err, msg)
			}
		})
	}
}

func TestDefaultErrorHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	tether.DefaultErrorHandler(rec, httptest.NewRequest("GET", "/", nil), errors.Join(tether.ErrStoreUnavailable, errors.New("dial tcp: refused")))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("store outage: got %d Retry-After %q, want 503 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got, want := rec.Body.String(), `{"error":"Session store unavailable"}`+"\n"; got != want {
		t.Fatalf("body: got %q, want %q (the cause must not leak)", got, want)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control: got %q, want no-store", got)
	}
}

// What a handler gets back from the session API, answered by the default
// error handler: store failures 503, programming and encoding errors 500.
func TestSessionErrorsStatus(t *testing.T) {
	cases := []struct {
		name   string
		down   bool
		call   func(s *tether.Session) error
		status int
	}{
		{"Set of a value JSON cannot encode", false, func(s *tether.Session) error { return s.Set("c", make(chan int)) }, http.StatusInternalServerError},
		{"Login with an empty user ID", false, func(s *tether.Session) error { return s.Login("", "") }, http.StatusInternalServerError},
		{"Set during a store outage", true, func(s *tether.Session) error { return s.Set("a", 1) }, http.StatusServiceUnavailable},
		{"Incr during a store outage", true, func(s *tether.Session) error {
			_, err := s.Incr(context.Background(), "n", 1)
			return err
		}, http.StatusServiceUnavailable},
		{"Err during a store outage", true, func(s *tether.Session) error { return s.Err() }, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/login", "")
			f.store.down.Store(tc.down)
			var err error
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				err = tc.call(tether.FromContext(r.Context()))
				tether.DefaultErrorHandler(w, r, err)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if rec.Code != tc.status {
				t.Fatalf("status for %v: got %d, want %d", err, rec.Code, tc.status)
			}
		})
	}
}

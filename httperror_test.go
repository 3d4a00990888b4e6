package tether_test

import (
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

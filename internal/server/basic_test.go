package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyzFailsWhenAStoreIsDown(t *testing.T) {
	h := newServer(t, func(context.Context) error { return errors.New("connection refused") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("readyz with a store down: got %d %q, want 503 without internal details", rec.Code, rec.Body.String())
	}
}

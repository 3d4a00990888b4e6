package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

func TestReadyzFailsWhenAStoreIsDown(t *testing.T) {
	h := testServer(t, tether.Config{}, Options{Ready: func(context.Context) error { return errors.New("connection refused") }}).Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("readyz with a store down: got %d %q, want 503 without internal details", rec.Code, rec.Body.String())
	}
}

package tether_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

func TestValueSizeLimit(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.MaxValueBytes = 100 })
	rec, _ := f.do(t, "/set?k=a&v="+strings.Repeat("x", 200), "")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "too large") {
		t.Fatalf("oversized value: got %d %q, want the Set error", rec.Code, rec.Body.String())
	}
}

func TestIncrOfNonInteger(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("incr is first use: %v", first), func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/set?k=n&v=abc", "")
			path := "/incr"
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				if !first {
					_ = s.UserID()
				}
				_, err := s.Incr(r.Context(), "n", 1)
				tether.DefaultErrorHandler(w, r, err)
			}))
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 500 {
				t.Fatalf("Incr of a string: got %d %q, want 500", rec.Code, rec.Body.String())
			}
			if got, _ := f.do(t, "/get?k=n", c); got.Body.String() != "|abc" {
				t.Fatalf("value after a failed Incr: got %q, want unchanged", got.Body.String())
			}
		})
	}
}

// An increment that would overflow int64 fails with ErrNotInteger on the
// local path too (a session not stored yet), as the Store contract says
// for stored ones; it used to wrap around.
func TestLocalIncrOverflow(t *testing.T) {
	f := newFixture(t, nil)
	var errs []error
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Set("n", int64(math.MaxInt64))
		_, err := s.Incr(r.Context(), "n", 1)
		errs = append(errs, err)
		_ = s.Set("m", int64(math.MinInt64))
		_, err = s.Incr(r.Context(), "m", -1)
		errs = append(errs, err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for i, err := range errs {
		if !errors.Is(err, tether.ErrNotInteger) {
			t.Fatalf("increment %d past the int64 range: got %v, want ErrNotInteger", i, err)
		}
	}
}

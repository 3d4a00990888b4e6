package server

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// A refused password check is answered alike on every route but for the
// wording: /login speaks of logins, /reauth and /password of password
// checks, and name the directory for a throttle outage.
func TestCredentialErrorAnswers(t *testing.T) {
	s := testServer(t, tether.Config{}, Options{})
	throttled := &throttledError{wait: 1500 * time.Millisecond, which: "account"}
	throttleDown := fmt.Errorf("%w: %w", errThrottleUnavailable, errors.New("connection refused"))
	directoryDown := errors.New("connection refused")
	cases := []struct {
		name       string
		err        error
		words      refusals
		status     int
		body       string
		retryAfter string
	}{
		{"login, wrong password", users.ErrInvalidCredentials, loginRefusals, 401, "Invalid credentials", ""},
		{"login, throttled", throttled, loginRefusals, 429, "Too many failed logins; try again later", "2"},
		{"login, throttle down", throttleDown, loginRefusals, 503, "Login temporarily unavailable", ""},
		{"login, directory down", directoryDown, loginRefusals, 503, "User directory unavailable", ""},
		{"check, wrong password", users.ErrInvalidCredentials, checkRefusals, 401, "Invalid credentials", ""},
		{"check, throttled", throttled, checkRefusals, 429, "Too many failed password checks; try again later", "2"},
		{"check, throttle down", throttleDown, checkRefusals, 503, "User directory unavailable", ""},
		{"check, directory down", directoryDown, checkRefusals, 503, "User directory unavailable", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.credentialError(rec, tc.err, tc.words)
			if want := `{"error":"` + tc.body + `"}`; rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != want {
				t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body, tc.status, want)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After: got %q, want %q", got, tc.retryAfter)
			}
		})
	}
}

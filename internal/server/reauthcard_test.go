package server

import (
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// The account page's re-authentication card (the "reauth" partial of
// partials.html, shared with the admin page): shown once the last sign-in
// is older than the window, it posts the password to /reauth with the
// session's CSRF token and comes back to the page; a failed attempt shows
// its message, tied to the field for screen readers (issue 15).
func TestReauthCard(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   bool
	}{
		{"recent sign-in: no card", time.Hour, false},
		{"old sign-in: the card", time.Nanosecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, testServer(t, tether.Config{}, Options{ReauthWindow: tc.window}).Handler())
			b.signIn("/account")
			body := b.do("GET", "/account", nil).Body.String()
			if got := strings.Contains(body, `id="reauth-title"`); got != tc.want {
				t.Fatalf("re-authentication card shown: got %v, want %v", got, tc.want)
			}
			if !tc.want {
				return
			}
			m := csrfField.FindStringSubmatch(body)
			if m == nil || m[1] == "" {
				t.Fatalf("the card's form: got no CSRF token, want the session's")
			}
			for _, want := range []string{`action="/reauth"`, `name="next" value="/account"`, `autocomplete="current-password"`, "Signing out devices and changing your password need a recent sign-in."} {
				if !strings.Contains(body, want) {
					t.Errorf("the card: got no %s, want it", want)
				}
			}
			if strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("the card before any attempt: got aria-invalid, want none")
			}
		})
	}
}

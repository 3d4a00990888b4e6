package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
)

// The whole DBSC flow (issue 16) through the reference server over HTTPS,
// with a Go client for each algorithm: sign in and get the offer, register,
// use the bound cookie, let it expire, refresh (403, proof, 200), go on.
func TestDBSCFlow(t *testing.T) {
	for _, alg := range []string{dbsc.AlgES256, dbsc.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			ts, clock, log := dbscServer(t, Options{})
			b := newDBSCBrowser(t, ts, alg)
			ch := b.Login()
			if ch == "" {
				t.Fatal("login over HTTPS: got no Secure-Session-Registration, want an offer")
			}
			b.RegisterOK(ch)
			if got := log.count(tether.EventDBSCRegistered, ""); got != 1 {
				t.Errorf("dbsc_registered events: got %d, want 1", got)
			}
			if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("bound session with its cookie: got %d %s, want 200", resp.StatusCode, body)
			}
			first := b.Cookie("sid-dbsc")

			clock.Add(dbsc.DefaultCookieTTL + time.Second) // the bound cookie's signed expiry passes
			resp, body := b.Do("GET", "/profile", "", nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("after the bound cookie expired: got %d %s, want 401", resp.StatusCode, body)
			}
			if got := log.count(tether.EventDBSCRequired, "expired"); got != 1 {
				t.Errorf("dbsc_required (expired) events: got %d, want 1", got)
			}

			b.Refresh()
			if got := b.Cookie("sid-dbsc"); got == first || got == "" {
				t.Errorf("refresh: bound cookie got %q, want a new value", got)
			}
			if got := log.count(tether.EventDBSCRefreshed, ""); got != 1 {
				t.Errorf("dbsc_refreshed events: got %d, want 1", got)
			}
			if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("after refresh: got %d %s, want 200", resp.StatusCode, body)
			}

			// The security log names the events and carries no secret: no
			// proof, challenge or cookie value (issue 16: "never the proof").
			logged := log.logged()
			for _, ev := range []string{"dbsc_registered", "dbsc_refreshed", "dbsc_required"} {
				if !strings.Contains(logged, `"event":"`+ev+`"`) {
					t.Errorf("security log: no %s line", ev)
				}
			}
			for _, secret := range append(*b.Secrets, first, b.Cookie("sid-dbsc"), b.Cookie("sid")) {
				if secret != "" && strings.Contains(logged, secret) {
					t.Errorf("security log carries a secret (%d bytes)", len(secret))
				}
			}

			// GET /sessions shows the session as bound.
			resp, body = b.Do("GET", "/sessions", "", nil)
			if resp.StatusCode != http.StatusOK || !containsAll(body, `"deviceBound":true`, `"deviceBoundSince":`) {
				t.Errorf("GET /sessions: got %d %s, want deviceBound true", resp.StatusCode, body)
			}
		})
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/testenv/dbscclient"
)

// Issue 16: "Logout, revocation and renewal end or carry the binding
// correctly", and a login starts a new, unbound session.
func TestDBSCLifecycle(t *testing.T) {
	bound := func(t *testing.T) (*dbscclient.Browser, *dbscClock, *eventLog) {
		ts, clock, log := dbscServer(t, Options{})
		b := newDBSCBrowser(t, ts, dbsc.AlgES256)
		b.RegisterOK(b.Login())
		clock.Add(dbsc.RegistrationGrace) // a missing bound cookie is refused from now on
		return b, clock, log
	}
	// ended checks that the binding is gone with the session: the
	// browser's refresh is refused (ending its DBSC session) and the
	// session cookie no longer signs in.
	ended := func(t *testing.T, b *dbscclient.Browser) {
		t.Helper()
		resp, body := b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.SID})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("refresh after the end: got %d %s, want 401 (the browser ends its DBSC session)", resp.StatusCode, body)
		}
		if resp, _ := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("profile after the end: got %d, want 401", resp.StatusCode)
		}
	}

	t.Run("logout ends the binding", func(t *testing.T) {
		b, _, _ := bound(t)
		if resp, body := b.Do("POST", "/logout", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("logout: got %d %s, want 200", resp.StatusCode, body)
		}
		ended(t, b)
	})
	t.Run("logout without the bound cookie is possible", func(t *testing.T) {
		b, clock, _ := bound(t)
		clock.Add(dbsc.DefaultCookieTTL + time.Second) // say the refresh failed
		if resp, body := b.Do("POST", "/logout", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("logout with an expired bound cookie: got %d %s, want 200", resp.StatusCode, body)
		}
		ended(t, b)
	})
	t.Run("revocation from another device ends the binding", func(t *testing.T) {
		b, _, _ := bound(t)
		other := b.Thief() // a fresh browser: no cookies
		other.Login()      // recent authentication, and not registered: an unbound device
		resp, body := other.Do("POST", "/sessions/revoke-others", "", map[string]string{csrf.HeaderName: other.CSRFToken()})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke-others: got %d %s, want 200", resp.StatusCode, body)
		}
		ended(t, b)
	})
	t.Run("renewal carries the binding", func(t *testing.T) {
		b, clock, log := bound(t)
		oldSID := b.Cookie("sid")
		clock.Add(tether.DefaultRenewInterval + time.Minute)
		b.Refresh() // the refresh request is the first after the interval: it renews
		if b.Cookie("sid") == oldSID {
			t.Fatal("the session cookie was not renewed; the test needs a renewal")
		}
		if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after renewal: got %d %s, want 200", resp.StatusCode, body)
		}
		if resp, _ := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("renewed session cookie alone: got %d, want 401 (still bound)", resp.StatusCode)
		}
		b.Refresh()
		if got := log.count(tether.EventTokenReuse, ""); got != 0 {
			t.Errorf("token_reuse: got %d, want 0", got)
		}
	})
	t.Run("re-authentication carries the binding", func(t *testing.T) {
		b, _, _ := bound(t)
		oldSID := b.Cookie("sid")
		resp, body := b.Do("POST", "/reauth", `{"password":"correct-horse"}`, map[string]string{csrf.HeaderName: b.CSRFToken()})
		if resp.StatusCode != http.StatusOK || b.Cookie("sid") == oldSID {
			t.Fatalf("reauth: got %d %s (token changed: %v), want 200 and a new token", resp.StatusCode, body, b.Cookie("sid") != oldSID)
		}
		if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after reauth with the bound cookie: got %d %s, want 200", resp.StatusCode, body)
		}
		if resp, _ := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("new session cookie alone after reauth: got %d, want 401 (still bound)", resp.StatusCode)
		}
		b.Refresh()
	})
	t.Run("a new login starts an unbound session, offered afresh", func(t *testing.T) {
		b, _, _ := bound(t)
		oldSID := b.SID
		ch := b.Login()
		if ch == "" {
			t.Fatal("second login: no offer, want a new one")
		}
		if resp, body := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("new login's session cookie alone: got %d %s, want 200 (unbound)", resp.StatusCode, body)
		}
		resp, _ := b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: oldSID})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("refresh of the old binding: got %d, want 401", resp.StatusCode)
		}
		b.RegisterOK(ch)
		if b.SID == oldSID {
			t.Error("the new binding reuses the old session identifier")
		}
		b.Refresh()
	})
}

// Sessions that never register keep working: over plain HTTP nothing is
// offered, and a browser without DBSC ignores the offer; with SESSION_DBSC
// off there is no offer and no route.
func TestDBSCUnboundSessionsWork(t *testing.T) {
	t.Run("plain HTTP", func(t *testing.T) {
		s := testServer(t, tether.Config{}, Options{})
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		b := newDBSCBrowser(t, ts, dbsc.AlgES256)
		if ch := b.Login(); ch != "" {
			t.Fatalf("login over http: got an offer, want none (Chromium registers over trusted HTTPS only)")
		}
		if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("profile: got %d %s, want 200", resp.StatusCode, body)
		}
	})
	t.Run("HTTPS, never registered", func(t *testing.T) {
		ts, clock, log := dbscServer(t, Options{})
		b := newDBSCBrowser(t, ts, dbsc.AlgES256)
		if ch := b.Login(); ch == "" {
			t.Fatal("no offer")
		}
		clock.Add(dbsc.DefaultCookieTTL + time.Minute)
		if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("unbound session: got %d %s, want 200", resp.StatusCode, body)
		}
		// Offered once per session: later responses carry no offer.
		resp, _ := b.Do("GET", "/account", "", map[string]string{"Accept": "text/html"})
		if resp.StatusCode != http.StatusOK || resp.Header.Get(dbsc.HeaderRegistration) != "" {
			t.Errorf("account page: got %d with offer %q, want 200 and no offer", resp.StatusCode, resp.Header.Get(dbsc.HeaderRegistration))
		}
		if _, body := b.Do("GET", "/sessions", "", nil); !strings.Contains(body, `"deviceBound":false`) {
			t.Errorf("GET /sessions: got %s, want deviceBound false", body)
		}
		if got := log.count(tether.EventDBSCRequired, ""); got != 0 {
			t.Errorf("dbsc_required: got %d, want 0", got)
		}
	})
	t.Run("SESSION_DBSC off", func(t *testing.T) {
		ts, _, _ := dbscServer(t, Options{DBSCOff: true})
		b := newDBSCBrowser(t, ts, dbsc.AlgES256)
		if ch := b.Login(); ch != "" {
			t.Fatal("DBSC off: got an offer, want none")
		}
		// The routes are not there: with a valid CSRF token (so that the
		// CSRF check, which they are no longer exempt from, lets them
		// through to the router) they are answered 404, as an unknown POST.
		tok := map[string]string{csrf.HeaderName: b.CSRFToken()}
		if unknown, _ := b.Do("POST", "/no-such-route", "", tok); unknown.StatusCode != http.StatusNotFound {
			t.Fatalf("DBSC off, POST to an unknown route with a CSRF token: got %d, want 404", unknown.StatusCode)
		}
		for _, p := range []string{"/dbsc/register", "/dbsc/refresh"} {
			resp, _ := b.Do("POST", p, "", map[string]string{csrf.HeaderName: b.CSRFToken(), dbsc.HeaderSessionID: "d1"})
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get(dbsc.HeaderChallenge) != "" {
				t.Errorf("DBSC off, POST %s: got %d (challenge %q), want 404 and no challenge, like an unknown route", p, resp.StatusCode, resp.Header.Get(dbsc.HeaderChallenge))
			}
		}
	})
}

// The account page shows per device whether it is bound.
func TestDBSCAccountPage(t *testing.T) {
	ts, _, _ := dbscServer(t, Options{})
	b := newDBSCBrowser(t, ts, dbsc.AlgES256)
	b.RegisterOK(b.Login())
	other := newDBSCBrowser(t, ts, dbsc.AlgES256)
	other.Login()
	resp, body := b.Do("GET", "/account", "", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /account: got %d, want 200", resp.StatusCode)
	}
	if got := strings.Count(body, ">Device-bound</span>"); got != 1 {
		t.Errorf("Device-bound badges: got %d, want 1", got)
	}
	if got := strings.Count(body, ">Not device-bound</span>"); got != 1 {
		t.Errorf("Not device-bound badges: got %d, want 1", got)
	}
}

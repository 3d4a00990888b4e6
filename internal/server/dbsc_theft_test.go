package server

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/testenv/dbscclient"
)

// Issue 16, "Enforcement": a thief who copied the session cookie alone is
// refused at once (401 and dbsc_required) and gets no renewed session
// cookie from the refusal; a thief with both cookies works only until the
// bound cookie's signed expiry, and cannot refresh without the key; the
// victim keeps working throughout.
func TestDBSCThief(t *testing.T) {
	ts, clock, log := dbscServer(t, Options{})
	victim := newDBSCBrowser(t, ts, dbsc.AlgES256)
	victim.RegisterOK(victim.Login())

	// Within RegistrationGrace of the registration a request with no bound
	// cookie at all still passes (the browser may have sent it before the
	// registration's answer came); a forged one never does.
	sessionOnly := victim.Thief("sid")
	if resp, body := sessionOnly.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("no bound cookie right after the registration: got %d %s, want 200 (grace)", resp.StatusCode, body)
	}
	forged := victim.Thief("sid")
	forged.HC.Jar.SetCookies(forged.Base, []*http.Cookie{{Name: "sid-dbsc", Value: strings.Repeat("A", 32) + "." + strings.Repeat("A", 43), Path: "/"}})
	if resp, body := forged.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged bound cookie within the grace: got %d %s, want 401", resp.StatusCode, body)
	}
	if got := log.count(tether.EventDBSCRequired, "invalid"); got != 1 {
		t.Errorf("dbsc_required (invalid): got %d, want 1", got)
	}
	clock.Add(dbsc.RegistrationGrace)

	resp, body := sessionOnly.Do("GET", "/profile", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("thief with the session cookie only: got %d %s, want 401", resp.StatusCode, body)
	}
	if got := log.count(tether.EventDBSCRequired, "missing"); got != 1 {
		t.Errorf("dbsc_required (missing): got %d, want 1", got)
	}
	if resp, _ := victim.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("victim after the thief's attempt: got %d, want 200", resp.StatusCode)
	}
	// A page request goes to the sign-in page instead.
	resp, _ = sessionOnly.Do("GET", "/account", "", map[string]string{"Accept": "text/html"})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "reason=device") {
		t.Errorf("thief's page request: got %d Location %q, want 303 to /login?…reason=device", resp.StatusCode, loc)
	}
	// So does a page's form post.
	form, err := http.NewRequest("POST", ts.URL+"/sessions/revoke-others", strings.NewReader("csrf_token=x"))
	if err != nil {
		t.Fatal(err)
	}
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Accept", "text/html")
	fresp, err := sessionOnly.HC.Do(form)
	if err != nil {
		t.Fatal(err)
	}
	fresp.Body.Close()
	if resp := fresp; resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?reason=device" {
		t.Errorf("thief's form post: got %d Location %q, want 303 to /login?reason=device", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The sign-in page shows the form to it (no redirect loop).
	// It greets nobody and carries no CSRF token: the page must not show a
	// thief whose account the copied cookie belongs to (issue 16).
	resp, page := sessionOnly.Do("GET", "/login", "", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /login for the thief: got %d, want 200 (the form)", resp.StatusCode)
	}
	if strings.Contains(page, "Signed in as") || strings.Contains(page, "alice") {
		t.Errorf("GET /login for the thief: the page names the signed-in user, want a signed-out page")
	}

	both := victim.Thief("sid", "sid-dbsc")
	if resp, body := both.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("thief with both cookies before expiry (the window DBSC leaves): got %d %s, want 200", resp.StatusCode, body)
	}

	// Past the bound cookie's expiry, and past the renewal interval: the
	// thief's refused request must not renew the session cookie.
	clock.Add(tether.DefaultRenewInterval + time.Minute)
	resp, body = both.Do("GET", "/profile", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("thief with both cookies after expiry: got %d %s, want 401", resp.StatusCode, body)
	}
	if dbscclient.SetsCookie(resp, "sid") {
		t.Errorf("the refused request renewed the session cookie: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if got := log.count(tether.EventDBSCRequired, "expired"); got != 1 {
		t.Errorf("dbsc_required (expired): got %d, want 1", got)
	}
	// The thief asks for a challenge and signs with its own key.
	ch := both.RefreshAsk()
	if resp, body := both.RefreshWith(both.WithNewKey().Proof(false, ch)); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("thief's refresh: got %d %s, want 400", resp.StatusCode, body)
	}

	victim.Refresh()
	if resp, body := victim.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("victim after refresh: got %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := both.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("thief after the victim's refresh: got %d, want 401", resp.StatusCode)
	}
	if got := log.count(tether.EventTokenReuse, ""); got != 0 {
		t.Errorf("token_reuse: got %d, want 0 (the victim's session must survive the thief)", got)
	}
}

// Two refreshes at once with one proof: exactly one 200 (the challenge is
// taken with one atomic increment), the other 403 with a new challenge.
func TestDBSCConcurrentRefreshOneProof(t *testing.T) {
	ts, _, log := dbscServer(t, Options{})
	b := newDBSCBrowser(t, ts, dbsc.AlgES256)
	b.RegisterOK(b.Login())
	const rounds = 10
	for i := 0; i < rounds; i++ {
		proof := b.Proof(false, b.RefreshAsk())
		codes := concurrently(t, b, 2, func(int) (*http.Request, error) {
			r, err := http.NewRequest("POST", ts.URL+"/dbsc/refresh", nil)
			if err == nil {
				r.Header.Set(dbsc.HeaderSessionID, b.SID)
				r.Header.Set(dbsc.HeaderResponse, proof)
			}
			return r, err
		})
		if codes[http.StatusOK] != 1 || codes[http.StatusForbidden] != 1 {
			t.Fatalf("round %d: got status counts %v, want one 200 and one 403", i, codes)
		}
	}
	if got := log.count(tether.EventDBSCRefreshed, ""); got != rounds {
		t.Errorf("dbsc_refreshed: got %d, want %d", got, rounds)
	}
}

// concurrently sends n requests made by mk at once (released together) with
// b's cookies, and counts their status codes.
func concurrently(t *testing.T, b *dbscclient.Browser, n int, mk func(i int) (*http.Request, error)) map[int]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
		errs  []error
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := mk(i)
			if err == nil {
				<-start
				var resp *http.Response
				if resp, err = b.HC.Do(r); err == nil {
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return codes
}

// Concurrent requests that change the session's values while it refreshes
// cannot merge the binding away: it lives in its own keys, patched alone.
func TestDBSCBindingSurvivesConcurrentWrites(t *testing.T) {
	ts, clock, _ := dbscServer(t, Options{})
	b := newDBSCBrowser(t, ts, dbsc.AlgES256)
	b.RegisterOK(b.Login())
	clock.Add(dbsc.RegistrationGrace)
	for i := 0; i < 5; i++ {
		proof := b.Proof(false, b.RefreshAsk())
		codes := concurrently(t, b, 12, func(i int) (*http.Request, error) {
			if i == 0 {
				r, err := http.NewRequest("POST", ts.URL+"/dbsc/refresh", nil)
				if err == nil {
					r.Header.Set(dbsc.HeaderSessionID, b.SID)
					r.Header.Set(dbsc.HeaderResponse, proof)
				}
				return r, err
			}
			if i%2 == 0 {
				return http.NewRequest("GET", ts.URL+"/profile", nil) // sets "last seen" values
			}
			return http.NewRequest("GET", ts.URL+"/views", nil) // increments a value
		})
		if codes[http.StatusOK] != 12 {
			t.Fatalf("round %d: got status counts %v, want 12 × 200", i, codes)
		}
	}
	if resp, body := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after concurrent writes, the session cookie alone: got %d %s, want 401 (still bound)", resp.StatusCode, body)
	}
	if _, body := b.Do("GET", "/sessions", "", nil); !strings.Contains(body, `"deviceBound":true`) {
		t.Errorf("GET /sessions: got %s, want deviceBound true", body)
	}
	b.Refresh() // the registered key still refreshes
}

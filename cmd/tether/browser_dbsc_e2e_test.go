package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/tetherhq/tether/internal/testenv/browser"
)

// Device Bound Session Credentials in headless Chromium (issue 16): the
// real `tether serve` in production behind a TLS-terminating proxy whose
// certificate the browser trusts (Chromium registers only then), with a
// bound cookie that lives dbscTestTTL and Chromium's signing quota turned
// off (browser.Options.DBSCNoQuota), so that the whole story fits in
// about half a minute. Debian's Chromium keeps the key in software; the
// protocol on the wire is the one a TPM-backed Chrome speaks.

// dbscTestTTL is SESSION_DBSC_COOKIE_TTL for the test: the shortest the
// server accepts. Chromium refreshes a bound cookie that has less than
// 120 s left alongside every request, and before the request once it has
// expired.
const dbscTestTTL = 10 * time.Second

// TestBrowserDBSC: sign in through the page and see Chromium register a
// device-bound session (DevTools creation event, dbsc_registered, the
// bound cookie in the jar, the account page says the device is bound);
// let the bound cookie expire and see Chromium refresh it on its own
// (403 challenge, signed proof, 200: challenge and refresh events,
// dbsc_refreshed) and stay signed in past it. A thief copies the whole
// cookie jar into a second browser with its own profile (an infostealer's
// haul) and even makes the stolen bound cookie last an hour in its jar
// (with the session cookie alone, it is refused at once):
// it gets in until the bound cookie's signed expiry, then its pages go
// to sign-in and its API calls get 401 (dbsc_required, reason expired),
// while the first browser keeps working. No CSP violation in either
// browser.
func TestBrowserDBSC(t *testing.T) {
	t.Parallel() // its own server and browsers; it mostly waits
	begin := time.Now()
	dir := t.TempDir()
	cliIn(t, dir, "correct-horse\n", "user", "add", "alice", "--password-stdin")
	in := startServe(t, dir, env("APP_ENV", "production", "SESSION_SECRET", strings.Repeat("cd", 32),
		"TRUST_PROXY", "127.0.0.1/32", "SESSION_DBSC", "on", "SESSION_DBSC_COOKIE_TTL", dbscTestTTL.String()))
	ca := browser.NewCA(t)
	base, wire := tlsFront(t, in, ca)

	// The user's browser signs in; Chromium registers.
	b := browser.Start(t, browser.Options{TrustCA: ca.CertPEM, DBSC: true, DBSCNoQuota: true})
	ctx := b.Main()
	// The thief's browser: its own profile and $HOME, another machine.
	// Started now, so that the theft below fits well inside the stolen
	// bound cookie's lifetime however slowly Chromium starts.
	thief := browser.Start(t, browser.Options{TrustCA: ca.CertPEM, DBSC: true})
	tctx := thief.Main()
	dbsc := browser.WatchDBSC(t, ctx)
	navigate(t, ctx, base+"/login")
	waitPath(t, ctx, "/login")
	signedIn := time.Now()
	signIn(t, ctx, "alice", "correct-horse")
	waitPath(t, ctx, "/account")
	created := dbsc.Wait(t, signedIn, 15*time.Second, "creation (registration)", func(e browser.DBSCEvent) bool {
		return e.Kind == "creation"
	})
	if !created.Succeeded || created.Result != "Success" || len(created.Cookies) != 1 {
		t.Fatalf("registration in Chromium: got %v (bound cookies %v), want a success with one bound cookie", created, created.Cookies)
	}
	waitServerEvent(t, in, "dbsc_registered", 1, 10*time.Second)
	if reg := wire.since(signedIn); len(reg) == 0 || reg[0].path != "/dbsc/register" || !reg[0].proof || reg[0].status != http.StatusOK {
		t.Fatalf("registration on the wire: got\n%swant first a POST /dbsc/register with a proof answered 200", wire)
	}
	boundName := created.Cookies[0]
	bound := browser.Cookie(t, ctx, base, boundName)
	if bound == nil || !bound.Secure || !bound.HTTPOnly || bound.Session || bound.Path != "/" || bound.Domain != "localhost" {
		t.Fatalf("bound cookie %s in the jar: got %+v, want Secure, HttpOnly, host-only, Path=/, with an expiry", boundName, bound)
	}
	// docs/security.md, ASVS 3.3.1 and 3.3.5: __Host- in production, and
	// a value of 76 bytes (base64url of expiry and nonce, a dot, an HMAC).
	if bound.Name != "__Host-sid-dbsc" || len(bound.Value) != 76 {
		t.Fatalf("bound cookie: got name %q and a value of %d bytes, want __Host-sid-dbsc and 76", bound.Name, len(bound.Value))
	}
	if left := time.Until(unixTime(bound.Expires)); left <= 0 || left > dbscTestTTL+time.Second {
		t.Fatalf("bound cookie lifetime: got %v left, want at most SESSION_DBSC_COOKIE_TTL=%v", left, dbscTestTTL)
	}

	if !currentDeviceBound(t, ctx) {
		t.Fatalf("GET /sessions after registration: got this session not deviceBound, want it bound")
	}
	navigate(t, ctx, base+"/account")
	waitPath(t, ctx, "/account")
	if got := strings.Join(strings.Fields(text(t, ctx, "table.devices tbody tr.current")), " "); !strings.Contains(got, "Device-bound") || strings.Contains(got, "Not device-bound") {
		t.Fatalf("this device's row on the account page: got %q, want it marked Device-bound", got)
	}
	shot(t, ctx, "dbsc-account")

	// The theft: every cookie of the site, the bound one as it is now but
	// kept for an hour by the thief's browser, so that only the server's
	// check of its signed expiry can stop it.
	var stolen []*network.CookieParam
	var stolenBound *network.Cookie
	for _, c := range browser.Cookies(t, ctx, base) {
		p := browser.CookieParam(c, base)
		if c.Name == boundName {
			stolenBound = c
			p.Expires = cdp.TimeSinceEpoch(time.Now().Add(time.Hour).Unix())
		}
		stolen = append(stolen, p)
	}
	if stolenBound == nil {
		t.Fatalf("bound cookie %s gone from the jar right after the account page", boundName)
	}
	browser.SetCookies(t, tctx, stolen...)
	navigate(t, tctx, base+"/account")
	waitPath(t, tctx, "/account") // within the bound cookie's lifetime the copy works: the window DBSC leaves

	// Past the stolen bound cookie's signed expiry (whole seconds).
	expired := unixTime(stolenBound.Expires).Add(1500 * time.Millisecond)
	time.Sleep(time.Until(expired))

	// The user's browser refreshes on its own and stays signed in.
	refreshed := countServerEvents(in, "dbsc_refreshed", "", "")
	navigate(t, ctx, base+"/account")
	waitPath(t, ctx, "/account")
	dbsc.Wait(t, expired, 10*time.Second, "challenge (403 with Secure-Session-Challenge)", func(e browser.DBSCEvent) bool {
		return e.Kind == "challenge" && e.Succeeded
	})
	dbsc.Wait(t, expired, 10*time.Second, "refresh (signed proof, 200)", func(e browser.DBSCEvent) bool {
		return e.Kind == "refresh" && e.Succeeded && e.Result == "Refreshed"
	})
	waitServerEvent(t, in, "dbsc_refreshed", refreshed+1, 10*time.Second)
	if !wire.challengedThenSigned(expired, "/dbsc/refresh") {
		t.Fatalf("refresh on the wire after the expiry: got\n%swant POST /dbsc/refresh without proof → 403, then with a proof → 200", wire)
	}
	if now := browser.Cookie(t, ctx, base, boundName); now == nil || now.Value == stolenBound.Value || !unixTime(now.Expires).After(expired) {
		t.Fatalf("bound cookie after the refresh: got %+v, want a new value expiring after %v", now, expired.Format(time.TimeOnly))
	}
	if got := fetchStatus(t, ctx, "/profile"); got != http.StatusOK {
		t.Fatalf("GET /profile from the user's browser after the refresh: got %d, want 200", got)
	}

	// A thief with the session cookie alone (another browser context, its
	// own cookie store) is refused, whenever it comes once the
	// registration's grace (dbsc.RegistrationGrace, for the browser's own
	// requests sent before the registration's answer) is over.
	alone := thief.Device()
	var sidOnly []*network.CookieParam
	for _, p := range stolen {
		if p.Name != boundName {
			sidOnly = append(sidOnly, p)
		}
	}
	missing := countServerEvents(in, "dbsc_required", "reason", "missing")
	browser.SetCookies(t, alone, sidOnly...)
	navigate(t, alone, base+"/account")
	waitPathOnly(t, alone, "/login")
	if n := countServerEvents(in, "dbsc_required", "reason", "missing"); n <= missing {
		t.Fatalf("dbsc_required (reason missing) for the session cookie without its bound cookie: got none, want one; log:\n%s", in.events)
	}

	// The thief's pages go to sign-in and its API calls get 401.
	refused := countServerEvents(in, "dbsc_required", "reason", "expired")
	navigate(t, tctx, base+"/account")
	waitPathOnly(t, tctx, "/login")
	if got := text(t, tctx, "#signin-reason"); !strings.Contains(got, "bound to a device") {
		t.Fatalf("the thief's sign-in page: got %q, want the device-bound message", strings.TrimSpace(got))
	}
	if got := text(t, tctx, "body"); strings.Contains(got, "Signed in as") {
		t.Fatalf("the thief's sign-in page greets the victim (%q), want a signed-out page", "Signed in as")
	}
	shot(t, tctx, "dbsc-thief")
	if got := fetchStatus(t, tctx, "/profile"); got != http.StatusUnauthorized {
		t.Fatalf("GET /profile from the thief's browser after the bound cookie expired: got %d, want 401", got)
	}
	if n := countServerEvents(in, "dbsc_required", "reason", "expired"); n < refused+2 {
		t.Fatalf("dbsc_required (reason expired) events for the thief's two requests: got %d more, want 2", n-refused)
	}

	// The user keeps working across another bound-cookie lifetime.
	for end := time.Now().Add(dbscTestTTL + 2*time.Second); time.Now().Before(end); time.Sleep(dbscTestTTL / 3) {
		navigate(t, ctx, base+"/account")
		waitPath(t, ctx, "/account")
	}
	if got := fetchStatus(t, ctx, "/profile"); got != http.StatusOK {
		t.Fatalf("GET /profile from the user's browser at the end: got %d, want 200", got)
	}
	for _, e := range dbsc.Events() {
		if e.Kind == "termination" || (e.Kind == "refresh" && !e.Succeeded) {
			t.Fatalf("the user's device-bound session failed in Chromium: %v\nall events:\n%v", e, dbsc.Events())
		}
	}
	noCSPViolations(t, b)
	noCSPViolations(t, thief)
	for _, e := range dbsc.Events() {
		t.Logf("DevTools: %v", e)
	}
	t.Logf("on the wire:\n%s", wire)
	t.Logf("DBSC in Chromium: %d DevTools events, %d refreshes by the server; test took %v",
		len(dbsc.Events()), countServerEvents(in, "dbsc_refreshed", "", ""), time.Since(begin).Round(time.Second))
}

// wireLog records the DBSC exchanges that pass the proxy: method, path,
// whether a proof (Secure-Session-Response) was sent, and the status;
// never a header's value.
type wireLog struct {
	mu    sync.Mutex
	lines []wireLine
}

type wireLine struct {
	at     time.Time
	path   string
	proof  bool
	status int
}

func (w *wireLog) since(at time.Time) []wireLine {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireLine
	for _, l := range w.lines {
		if !l.at.Before(at) {
			out = append(out, l)
		}
	}
	return out
}

// challengedThenSigned reports whether, since at, a POST to path without a proof got 403
// and a later one with a proof got 200: a challenge, then a signed answer.
func (w *wireLog) challengedThenSigned(at time.Time, path string) bool {
	challenged := false
	for _, l := range w.since(at) {
		switch {
		case l.path == path && !l.proof && l.status == http.StatusForbidden:
			challenged = true
		case l.path == path && l.proof && l.status == http.StatusOK && challenged:
			return true
		}
	}
	return false
}

func (w *wireLog) String() string {
	var b strings.Builder
	for _, l := range w.since(time.Time{}) {
		fmt.Fprintf(&b, "  %s POST %s proof=%v → %d\n", l.at.Format("15:04:05.000"), l.path, l.proof, l.status)
	}
	return b.String()
}

// tlsFront puts a TLS-terminating reverse proxy with ca's certificate in
// front of in (which trusts 127.0.0.1 as a proxy) and returns its base URL
// on localhost, and the log of the DBSC requests that went through it.
func tlsFront(t *testing.T, in *instance, ca *browser.CA) (string, *wireLog) {
	t.Helper()
	target, _ := url.Parse(in.base)
	wire := &wireLog{}
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
		pr.Out.Host = pr.In.Host
	}, ModifyResponse: func(r *http.Response) error {
		if strings.HasPrefix(r.Request.URL.Path, "/dbsc/") {
			wire.mu.Lock()
			wire.lines = append(wire.lines, wireLine{time.Now(), r.Request.URL.Path, r.Request.Header.Get("Secure-Session-Response") != "", r.StatusCode})
			wire.mu.Unlock()
		}
		return nil
	}})
	proxy.TLS = ca.TLSConfig()
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	return strings.Replace(proxy.URL, "127.0.0.1", "localhost", 1), wire
}

// unixTime converts a cookie's expiry (seconds since the epoch) to a time.
func unixTime(s float64) time.Time { return time.UnixMilli(int64(s * 1000)) }

// waitPathOnly waits until the tab's URL has path want, whatever the query.
func waitPathOnly(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			if u, err := url.Parse(loc); err == nil {
				got = u.RequestURI()
				if u.Path == want {
					if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
						t.Fatalf("page %s did not finish loading: %v", want, err)
					}
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tab location: got %q, want path %q", got, want)
}

// fetchStatus makes an API request (Accept: application/json) from the
// page of ctx, with its cookies, and returns the status.
func fetchStatus(t *testing.T, ctx context.Context, path string) int {
	t.Helper()
	js := `fetch(` + jsString(path) + `, {headers: {Accept: "application/json"}, redirect: "manual"}).then(r => r.status)`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s in the page: %v", path, err)
	}
	return v
}

// currentDeviceBound reads GET /sessions from the page of ctx and returns
// the current session's deviceBound.
func currentDeviceBound(t *testing.T, ctx context.Context) bool {
	t.Helper()
	js := `fetch("/sessions", {headers: {Accept: "application/json"}}).then(r => r.text())`
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch /sessions in the page: %v", err)
	}
	var v struct {
		Sessions []struct {
			Current     bool `json:"current"`
			DeviceBound bool `json:"deviceBound"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET /sessions: got %q, want JSON: %v", body, err)
	}
	for _, s := range v.Sessions {
		if s.Current {
			return s.DeviceBound
		}
	}
	t.Fatalf("GET /sessions: got %q, want the current session listed", body)
	return false
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// countServerEvents counts the server's security events named name (with
// attribute key equal to value, when key is not empty).
func countServerEvents(in *instance, name, key, value string) int {
	n := 0
	for _, line := range strings.Split(in.events.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["event"] != name {
			continue
		}
		if key == "" || e[key] == value {
			n++
		}
	}
	return n
}

// waitServerEvent waits until the server has logged at least n events
// named name.
func waitServerEvent(t *testing.T, in *instance, name string, n int, timeout time.Duration) {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if countServerEvents(in, name, "", "") >= n {
			return
		}
	}
	t.Fatalf("server security log: got %d %s events within %v, want %d; log:\n%s", countServerEvents(in, name, "", ""), name, timeout, n, in.events)
}

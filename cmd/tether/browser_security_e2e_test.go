package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/server"
	"github.com/tetherhq/tether/internal/testenv/browser"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/passwords"
)

// otherSite serves pages on another site than the app's: the app listens
// on 127.0.0.1, and these pages are opened as http://localhost:PORT (a
// different host, so a different site for cookies and Sec-Fetch-Site).
func otherSite(t *testing.T, pages map[string]string) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
}

// autoSubmit is a page that posts a form to action as soon as it loads.
func autoSubmit(action string, fields ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><title>prize</title><form id="f" method="post" action="%s">`, action)
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, fields[i], fields[i+1])
	}
	b.WriteString(`</form><script>document.getElementById("f").submit()</script>`)
	return b.String()
}

// csrfFailures returns the paths of the csrf_failure events logged so far.
func csrfFailures(in *instance) []string {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(in.events.String()))
	for sc.Scan() {
		var e struct{ Event, Path string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event == "csrf_failure" {
			paths = append(paths, e.Path)
		}
	}
	return paths
}

// TestBrowserCrossSiteForms: pages on another site that auto-submit forms
// to POST /logout, POST /password and POST /sessions/revoke-others change
// nothing, and the app logs csrf_failure for each (issue 15).
func TestBrowserCrossSiteForms(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env())
	b := browser.Start(t, browser.Options{})
	victim, other := b.Main(), b.Device()
	for _, ctx := range []context.Context{victim, other} {
		navigate(t, ctx, in.base+"/login")
		signIn(t, ctx, "alice", "correct-horse")
		waitPath(t, ctx, "/account")
	}
	evil := otherSite(t, map[string]string{
		"/logout":   autoSubmit(in.base + "/logout"),
		"/password": autoSubmit(in.base+"/password", "currentPassword", "correct-horse", "newPassword", "attacker-chosen-1"),
		"/others":   autoSubmit(in.base + "/sessions/revoke-others"),
	})
	attack := b.Tab() // the victim's browser, another tab
	for _, tc := range []struct{ page, target string }{{"/logout", "/logout"}, {"/password", "/password"}, {"/others", "/sessions/revoke-others"}} {
		navigate(t, attack, evil+tc.page)
		waitPath(t, attack, tc.target)
		if got := text(t, attack, "h1"); got != "Not allowed" {
			t.Fatalf("the app's answer to the cross-site post to %s: got heading %q, want the 403 page", tc.target, got)
		}
	}
	shot(t, attack, "error-403")
	if got := csrfFailures(in); strings.Join(got, " ") != "/logout /password /sessions/revoke-others" {
		t.Fatalf("csrf_failure events: got paths %q, want /logout /password /sessions/revoke-others", got)
	}
	// Nothing changed: both sessions live, and the password is the old one.
	for _, ctx := range []context.Context{victim, other} {
		click(t, ctx, `nav a[href="/account"]`)
		waitPath(t, ctx, "/account")
		if n := eval[int](t, ctx, "document.querySelectorAll('table.devices tbody tr').length"); n != 2 {
			t.Fatalf("devices after the cross-site posts: got %d, want 2", n)
		}
	}
	c := in.client()
	expect(t, "sign-in with the old password", c.login("alice", "correct-horse"), 200, "")
	noCSPViolations(t, b)
}

// TestBrowserFraming: a page on another site cannot frame the app: the
// browser refuses (frame-ancestors 'none', X-Frame-Options: DENY), and the
// frame never shows the app's page (issue 15).
func TestBrowserFraming(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env())
	b := browser.Start(t, browser.Options{})
	ctx := b.Main()
	evil := otherSite(t, map[string]string{
		"/frame": `<!doctype html><title>frame</title><iframe id="app" src="` + in.base + `/login" width="600" height="400"></iframe>`,
	})
	navigate(t, ctx, evil+"/frame")
	deadline := time.Now().Add(10 * time.Second)
	for len(b.Violations()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	v := b.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "frame-ancestors 'none'") {
		t.Fatalf("CSP reports: got %q, want one frame-ancestors refusal", v)
	}
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, child := range tree.FrameTree.ChildFrames {
		if u := child.Frame.URL; strings.HasPrefix(u, in.base) && child.Frame.UnreachableURL == "" {
			// A refused frame is left on an error page; the app's page
			// must not be what it shows.
			html, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!document.getElementById("app").contentDocument; } catch (e) { return false; } })()`))
			if err != nil || html {
				t.Fatalf("the frame shows the app (%s): readable=%v err=%v", u, html, err)
			}
		}
	}
}

// TestBrowserCSP: an inline <script> that a (test-only) template puts in a
// page does not run, the script carrying the request's nonce does, and the
// page's own script from /static runs (issue 15).
func TestBrowserCSP(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	dir, err := users.Open(filepath.Join(t.TempDir(), "u.db"),
		passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{[]byte(strings.Repeat("s", 32))}})
	if err != nil {
		t.Fatal(err)
	}
	injected := `{{define "content"}}<h1>Injected</h1>` +
		`<script>window.injected = "ran"</script>` +
		`<script nonce="{{.Nonce}}">window.nonced = "ran"</script>{{end}}`
	srv, err := server.New(server.Options{Manager: m, Users: dir, Templates: fstest.MapFS{"login.html": {Data: []byte(injected)}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	b := browser.Start(t, browser.Options{})
	ctx := b.Main()
	navigate(t, ctx, ts.URL+"/login")
	waitPath(t, ctx, "/login")
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`html[data-js="on"]`))); err != nil {
		t.Fatalf("the page's own script (/static/app.js) did not run: %v", err)
	}
	if got := eval[string](t, ctx, `String(window.nonced)`); got != "ran" {
		t.Fatalf("the script with the nonce: got window.nonced=%q, want ran", got)
	}
	if got := eval[string](t, ctx, `String(window.injected)`); got != "undefined" {
		t.Fatalf("the injected inline script ran: window.injected=%q, want undefined (blocked by the CSP)", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Violations()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if v := b.Violations(); len(v) != 1 || !strings.Contains(v[0], "script") {
		t.Fatalf("CSP reports: got %q, want one about the inline script", v)
	}
}

// TestBrowserProductionTLS: in production behind a TLS-terminating proxy,
// with a certificate from a CA the test makes and the browser trusts
// through the NSS database in its $HOME, the session cookie in the
// browser is __Host-sid with Secure (issue 15).
func TestBrowserProductionTLS(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	dir := t.TempDir()
	cliIn(t, dir, "correct-horse\n", "user", "add", "alice", "--password-stdin")
	getenv := env("APP_ENV", "production", "SESSION_SECRET", strings.Repeat("ab", 32), "TRUST_PROXY", "127.0.0.1/32")
	in := startServe(t, dir, getenv)
	target, _ := url.Parse(in.base)
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
		pr.Out.Host = pr.In.Host
	}})
	ca := browser.NewCA(t)
	proxy.TLS = ca.TLSConfig()
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	base := strings.Replace(proxy.URL, "127.0.0.1", "localhost", 1)

	b := browser.Start(t, browser.Options{TrustCA: ca.CertPEM})
	ctx := b.Main()
	navigate(t, ctx, base+"/login")
	waitPath(t, ctx, "/login")
	signIn(t, ctx, "alice", "correct-horse")
	waitPath(t, ctx, "/account")
	c := browser.Cookie(t, ctx, base, "__Host-sid")
	if c == nil || !c.Secure || !c.HTTPOnly || c.Path != "/" || c.Domain != "localhost" {
		t.Fatalf("session cookie over TLS in production: got %+v, want __Host-sid Secure HttpOnly Path=/ host-only", c)
	}
	if d := browser.Cookie(t, ctx, base, "sid"); d != nil {
		t.Fatalf("a cookie named sid in production: %+v", d)
	}
	noCSPViolations(t, b)
}

// startServe is start without --demo (which production refuses): the
// users must exist already.
func startServe(t *testing.T, dir string, getenv func(string) string) *instance {
	t.Helper()
	return launch(t, getenv, []string{"serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir})
}

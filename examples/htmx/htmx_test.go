package htmx_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tetherhq/tether/examples/htmx"
	"github.com/tetherhq/tether/examples/internal/exampletest"
	"github.com/tetherhq/tether/secheaders"
)

var (
	metaToken = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]{64})">`)
	cspNonce  = regexp.MustCompile(`'nonce-([A-Za-z0-9+/]{22})'`)
)

// loadPage gets GET / as a browser would (no HX-Request) and returns the
// page and the CSRF token of its meta tag, after checking that the page's
// scripts carry the nonce of its Content-Security-Policy.
func loadPage(t *testing.T, b *exampletest.Browser) (body, token string) {
	t.Helper()
	hx := b.Header.Get("HX-Request")
	b.Header.Del("HX-Request")
	defer func() {
		if hx != "" {
			b.Header.Set("HX-Request", hx)
		}
	}()
	res, body := b.Do("GET", "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: got %d %q, want 200", res.StatusCode, body)
	}
	m := metaToken.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET /: got no csrf-token meta tag with 64 hex digits in %q", body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	n := cspNonce.FindStringSubmatch(csp)
	if n == nil {
		t.Fatalf("GET /: got Content-Security-Policy %q, want a 'nonce-…' source", csp)
	}
	// html/template writes + in an attribute as &#43;, which the browser
	// reads back as +.
	if got, want := strings.Count(body, `<script `), strings.Count(html.UnescapeString(body), `nonce="`+n[1]+`"`); got != 2 || want != 2 {
		t.Fatalf("GET /: got %d scripts, %d with the policy's nonce; want 2 and 2", got, want)
	}
	for name, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	} {
		if got := res.Header.Get(name); got != want {
			t.Fatalf("GET /: got %s %q, want %q", name, got, want)
		}
	}
	if vary := strings.Join(res.Header.Values("Vary"), ", "); !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "HX-Request") {
		t.Fatalf("GET /: got Vary %q, want Cookie and HX-Request", vary)
	}
	return body, m[1]
}

// TestHTMXLoginCounterLogout drives the page as htmx does: every request
// carries HX-Request: true and the meta tag's token as X-CSRF-Token.
func TestHTMXLoginCounterLogout(t *testing.T) {
	h, err := htmx.New(exampletest.Manager(t), secheaders.Default(false))
	if err != nil {
		t.Fatalf("htmx.New: %v", err)
	}
	b := exampletest.NewBrowser(t, h)
	login := url.Values{"username": {exampletest.DemoUser}, "password": {exampletest.DemoPassword}}
	wrong := url.Values{"username": {exampletest.DemoUser}, "password": {"wrong"}}

	body, token := loadPage(t, b)
	if !strings.Contains(body, `hx-post="/login"`) {
		t.Fatalf("GET / signed out: got %q, want the sign-in form", body)
	}
	b.Header.Set("HX-Request", "true")

	b.Expect("POST", "/login", login, http.StatusForbidden, "Invalid CSRF token")
	b.CSRF = token
	b.Expect("POST", "/login", wrong, http.StatusUnauthorized, `<form id="panel"`, "Wrong username or password.")
	// The login drops the pre-login CSRF token (issue 11 row 4): it answers
	// HX-Redirect: / and the new page brings the new token.
	if res, body := b.Do("POST", "/login", login); res.StatusCode != http.StatusOK || res.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("POST /login: got %d %q HX-Redirect %q, want 200 and /", res.StatusCode, body, res.Header.Get("HX-Redirect"))
	}
	b.Expect("POST", "/counter", nil, http.StatusForbidden, "Invalid CSRF token")
	body, token = loadPage(t, b)
	if !strings.Contains(body, "Signed in as <strong>alice</strong>") {
		t.Fatalf("GET / after login: got %q, want the account panel", body)
	}
	b.CSRF = token
	b.Expect("POST", "/counter", nil, http.StatusOK, `<output id="count">1</output>`)
	b.Expect("POST", "/counter", nil, http.StatusOK, `<output id="count">2</output>`)

	// A reload shows the session's state, and the token stayed the same
	// since the login: the meta tag htmx reads is still right.
	body, again := loadPage(t, b)
	if again != token {
		t.Fatalf("after login: got a new CSRF token, want the page's token to stay valid")
	}
	for _, want := range []string{"Signed in as <strong>alice</strong>", `<output id="count">2</output>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("GET / signed in: got %q, want it to contain %q", body, want)
		}
	}

	res, _ := b.Do("POST", "/logout", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("POST /logout: got %d HX-Redirect %q, want 200 and /", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	// The old token died with the session.
	b.Expect("POST", "/counter", nil, http.StatusForbidden, "Invalid CSRF token")
	body, fresh := loadPage(t, b)
	if fresh == token || !strings.Contains(body, `hx-post="/login"`) {
		t.Fatalf("after logout: got token changed=%v and sign-in form=%v, want both", fresh != token, strings.Contains(body, `hx-post="/login"`))
	}
	b.CSRF = fresh
	res, body = b.Do("POST", "/counter", nil)
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("POST /counter signed out: got %d %q HX-Redirect %q, want 401 and HX-Redirect /", res.StatusCode, body, res.Header.Get("HX-Redirect"))
	}
}

// The forms work without JavaScript: the token travels in the hidden
// csrf_token field and each post answers a redirect to the page.
func TestPlainFormsWithoutJavaScript(t *testing.T) {
	h, err := htmx.New(exampletest.Manager(t), secheaders.Default(false))
	if err != nil {
		t.Fatalf("htmx.New: %v", err)
	}
	b := exampletest.NewBrowser(t, h)
	_, token := loadPage(t, b)
	post := func(path string, form url.Values) {
		t.Helper()
		form.Set("csrf_token", token)
		res, body := b.Do("POST", path, form)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("POST %s: got %d %q Location %q, want 303 to /", path, res.StatusCode, body, res.Header.Get("Location"))
		}
	}
	post("/login", url.Values{"username": {exampletest.DemoUser}, "password": {exampletest.DemoPassword}})
	_, token = loadPage(t, b) // the login dropped the pre-login token (issue 11 row 4)
	post("/counter", url.Values{})
	body, _ := loadPage(t, b)
	if !strings.Contains(body, `<output id="count">1</output>`) {
		t.Fatalf("GET / after a plain counter post: got %q, want the count 1", body)
	}
	post("/logout", url.Values{})
	body, _ = loadPage(t, b)
	if !strings.Contains(body, `hx-post="/login"`) {
		t.Fatalf("GET / after a plain logout: got %q, want the sign-in form", body)
	}
}

// A request that a browser marks as coming from another site is refused
// even with the right token.
func TestCrossSiteRequestRefused(t *testing.T) {
	h, err := htmx.New(exampletest.Manager(t), secheaders.Default(false))
	if err != nil {
		t.Fatalf("htmx.New: %v", err)
	}
	b := exampletest.NewBrowser(t, h)
	_, b.CSRF = loadPage(t, b)
	b.Header.Set("HX-Request", "true")
	b.Header.Set("Sec-Fetch-Site", "cross-site")
	res, body := b.Do("POST", "/login", url.Values{"username": {exampletest.DemoUser}, "password": {exampletest.DemoPassword}})
	if res.StatusCode != http.StatusForbidden || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("cross-site POST /login: got %d %q X-Frame-Options %q, want 403 with the security headers", res.StatusCode, body, res.Header.Get("X-Frame-Options"))
	}
}

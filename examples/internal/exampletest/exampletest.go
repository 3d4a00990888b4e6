// Package exampletest drives the example apps as a browser would: a real
// HTTP server (httptest.NewServer), a cookie jar (net/http/cookiejar) that
// keeps the session cookie between requests, and the CSRF token sent back in
// the X-CSRF-Token header. It is for the examples' tests only.
//
// [APIFlow] is the scenario every JSON example (servemux, chi, echo, gin)
// passes: the same routes and the same answers, whatever the framework.
package exampletest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/examples/internal/demo"
	"github.com/tetherhq/tether/memstore"
)

// Manager returns a Manager on an in-memory store with a fixed test secret.
// A real app opens sqlitestore or redisstore and reads a random secret of at
// least 32 bytes from its configuration (see each example's package doc).
func Manager(t testing.TB) *tether.Manager {
	t.Helper()
	m, err := tether.New(tether.Config{
		Store:   memstore.New(),
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
	})
	if err != nil {
		t.Fatalf("tether.New: %v", err)
	}
	return m
}

// Browser is an HTTP client with a cookie jar, talking to one test server.
type Browser struct {
	t *testing.T
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL    string
	Client *http.Client
	// CSRF, when not empty, is sent as X-CSRF-Token on every request.
	CSRF string
	// Header is added to every request (e.g. HX-Request for htmx).
	Header http.Header
}

// NewBrowser starts h on a test server, closed when the test ends, and
// returns a browser with an empty cookie jar.
func NewBrowser(t *testing.T, h http.Handler) *Browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewBrowserFor(t, srv.URL)
}

// NewBrowserFor returns a browser with an empty cookie jar for the server
// at base (a second browser on the same server is another user).
func NewBrowserFor(t *testing.T, base string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, URL: base, Client: &http.Client{
		Jar: jar,
		// Show redirects to the test instead of following them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, Header: http.Header{}}
}

// Do sends a request; a non-nil form is sent urlencoded. It returns the
// response, whose body has been read into the returned string.
func (b *Browser) Do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.Header {
		req.Header[k] = v
	}
	if b.CSRF != "" {
		req.Header.Set("X-CSRF-Token", b.CSRF)
	}
	res, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return res, string(data)
}

// Expect sends a request and fails the test unless the answer has status
// want and a body containing every string of contains. It returns the body.
func (b *Browser) Expect(method, path string, form url.Values, want int, contains ...string) string {
	b.t.Helper()
	res, body := b.Do(method, path, form)
	if res.StatusCode != want {
		b.t.Fatalf("%s %s: got %d %q, want %d", method, path, res.StatusCode, body, want)
	}
	for _, c := range contains {
		if !strings.Contains(body, c) {
			b.t.Fatalf("%s %s: got body %q, want it to contain %q", method, path, body, c)
		}
	}
	return body
}

// SessionCookie returns the value of the cookie named name that the browser
// would send to the server, "" if it has none.
func (b *Browser) SessionCookie(name string) string {
	u, err := url.Parse(b.URL)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// FetchCSRF gets GET /csrf-token ({"csrfToken":"…"}) and keeps the token
// for the next requests.
func (b *Browser) FetchCSRF() {
	b.t.Helper()
	body := b.Expect("GET", "/csrf-token", nil, http.StatusOK)
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.CSRFToken) != 64 {
		b.t.Fatalf("GET /csrf-token: got %q, want {\"csrfToken\":\"<64 hex digits>\"}", body)
	}
	b.CSRF = v.CSRFToken
}

// Demo user of every example (package demo).
const (
	DemoUser     = demo.User
	DemoPassword = demo.Password
)

// APIFlow runs the scenario the JSON examples share, on h:
//
//	GET  /csrf-token  {"csrfToken":"…"}, creating the session
//	POST /login       form username, password → {"user":"alice"}; 401 if wrong
//	GET  /me          {"user":"alice"}; 401 when signed out
//	POST /counter     {"count":n} (Session.Incr); 401 when signed out
//	POST /logout      {"ok":true}
//
// Every POST needs the X-CSRF-Token header (403 without it). Error bodies
// differ by framework, so only the wording is checked.
func APIFlow(t *testing.T, h http.Handler, cookieName string) {
	b := NewBrowser(t, h)
	login := url.Values{"username": {DemoUser}, "password": {DemoPassword}}
	wrong := url.Values{"username": {DemoUser}, "password": {"wrong"}}

	b.Expect("GET", "/me", nil, http.StatusUnauthorized, "Not signed in")
	b.Expect("POST", "/login", login, http.StatusForbidden, "Invalid CSRF token")
	b.FetchCSRF()
	pre := b.SessionCookie(cookieName)
	if pre == "" {
		t.Fatalf("after GET /csrf-token: got no %s cookie, want one", cookieName)
	}
	b.Expect("POST", "/counter", nil, http.StatusUnauthorized, "Not signed in")
	b.Expect("POST", "/login", wrong, http.StatusUnauthorized, "Wrong username or password")
	b.Expect("POST", "/login", login, http.StatusOK, `"user":"alice"`)
	b.FetchCSRF() // the login dropped the pre-login token (issue 11 row 4)
	if post := b.SessionCookie(cookieName); post == "" || post == pre {
		t.Fatalf("after login: got cookie changed=%v present=%v, want a new session token", post != pre, post != "")
	}
	b.Expect("GET", "/me", nil, http.StatusOK, `"user":"alice"`)
	b.Expect("POST", "/counter", nil, http.StatusOK, `"count":1`)
	b.Expect("POST", "/counter", nil, http.StatusOK, `"count":2`)

	token := b.CSRF
	b.CSRF = ""
	b.Expect("POST", "/counter", nil, http.StatusForbidden, "Invalid CSRF token")
	b.CSRF = strings.Repeat("0", 64)
	b.Expect("POST", "/counter", nil, http.StatusForbidden, "Invalid CSRF token")
	b.CSRF = token

	// Another browser has a session of its own.
	other := NewBrowserFor(t, b.URL)
	other.Expect("GET", "/me", nil, http.StatusUnauthorized, "Not signed in")

	b.Expect("POST", "/logout", nil, http.StatusOK, `"ok":true`)
	if c := b.SessionCookie(cookieName); c != "" {
		t.Fatalf("after logout: got a %s cookie still in the jar, want it expired", cookieName)
	}
	b.Expect("GET", "/me", nil, http.StatusUnauthorized, "Not signed in")
	// The old CSRF token died with the session.
	b.Expect("POST", "/counter", nil, http.StatusForbidden, "Invalid CSRF token")

	// Signing in again starts a new counter.
	b.FetchCSRF()
	b.Expect("POST", "/login", login, http.StatusOK, `"user":"alice"`)
	b.FetchCSRF()
	b.Expect("POST", "/counter", nil, http.StatusOK, `"count":1`)
}

package csrf_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/memstore"
)

type fixture struct {
	h      http.Handler
	cookie *http.Cookie
	token  string
	mu     sync.Mutex
	events []tether.Event
}

func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{}
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
		OnEvent: func(e tether.Event) { f.mu.Lock(); f.events = append(f.events, e); f.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m, Exempt: []string{"/login"}, TrustedOrigins: []string{"https://partner.example"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := csrf.Token(r)
		_, _ = w.Write([]byte(tok))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("done")) })
	f.h = m.Handler(p.Handler(mux))
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "/csrf-token", nil))
	f.cookie, f.token = rec.Result().Cookies()[0], rec.Body.String()
	if len(f.token) != 64 {
		t.Fatalf("token: got %q, want 64 hex digits", f.token)
	}
	return f
}

func TestCheck(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name, method, path, ctype, body string
		hdr                             []string
		noCookie                        bool
		status                          int
		reason                          string
	}{
		{"GET needs nothing", "GET", "/x", "", "", nil, false, 200, ""},
		{"POST with the header token", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN"}, false, 200, ""},
		{"POST with the form token", "POST", "/x", "application/x-www-form-urlencoded", "a=1&csrf_token=TOKEN", nil, false, 200, ""},
		{"POST without a token", "POST", "/x", "", "", nil, false, 403, "missing_token"},
		{"POST with a wrong token", "POST", "/x", "", "", []string{"X-CSRF-Token", strings.Repeat("0", 64)}, false, 403, "bad_token"},
		{"POST with a token prefix", "POST", "/x", "", "", []string{"X-CSRF-Token", "PREFIX"}, false, 403, "bad_token"},
		{"POST without a session", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN"}, true, 403, "no_session_token"},
		{"DELETE without a token", "DELETE", "/x", "", "", nil, false, 403, "missing_token"},
		{"exempt path needs no token", "POST", "/login", "", "", nil, true, 200, ""},
		// Cross-origin cases: Sec-Fetch-Site first, then Origin against Host.
		{"Sec-Fetch-Site cross-site", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Sec-Fetch-Site", "cross-site"}, false, 403, "cross_origin"},
		{"Sec-Fetch-Site same-site (another subdomain)", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Sec-Fetch-Site", "same-site"}, false, 403, "cross_origin"},
		{"Sec-Fetch-Site same-origin", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Sec-Fetch-Site", "same-origin"}, false, 200, ""},
		{"Sec-Fetch-Site none (typed URL)", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Sec-Fetch-Site", "none"}, false, 200, ""},
		{"forged login from another site", "POST", "/login", "", "", []string{"Sec-Fetch-Site", "cross-site"}, true, 403, "cross_origin"},
		{"Origin of another host", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Origin", "https://evil.example"}, false, 403, "cross_origin"},
		{"Origin matching Host", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Origin", "http://example.com"}, false, 200, ""},
		{"trusted origin", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Origin", "https://partner.example", "Sec-Fetch-Site", "cross-site"}, false, 200, ""},
		// Proxy headers are not believed: a forged X-Forwarded-Host does not
		// make a cross-origin request look same-origin.
		{"X-Forwarded-Host cannot whitelist", "POST", "/x", "", "", []string{"X-CSRF-Token", "TOKEN", "Origin", "https://evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, false, 403, "cross_origin"},
		{"curl: no Origin, no Sec-Fetch-Site, with token", "POST", "/x", "application/json", "{}", []string{"X-CSRF-Token", "TOKEN"}, false, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.ReplaceAll(tc.body, "TOKEN", f.token)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				v := strings.ReplaceAll(tc.hdr[i+1], "TOKEN", f.token)
				if v == "PREFIX" {
					v = f.token[:63]
				}
				req.Header.Set(tc.hdr[i], v)
			}
			if !tc.noCookie {
				req.AddCookie(f.cookie)
			}
			f.mu.Lock()
			f.events = nil
			f.mu.Unlock()
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body.String(), tc.status)
			}
			if tc.status == 403 {
				if !strings.HasPrefix(rec.Body.String(), `{"error":`) {
					t.Fatalf("body: got %q, want {\"error\":…}", rec.Body.String())
				}
				f.mu.Lock()
				defer f.mu.Unlock()
				found := false
				for _, e := range f.events {
					if e.Type == tether.EventCSRFFailure {
						found = true
						for _, a := range e.Attrs {
							if a.Key == "reason" && a.Value.String() != tc.reason {
								t.Fatalf("csrf_failure reason: got %s, want %s", a.Value, tc.reason)
							}
							if strings.Contains(a.Value.String(), f.token) {
								t.Fatal("csrf_failure event carries the token")
							}
						}
					}
				}
				if !found {
					t.Fatal("no csrf_failure event")
				}
			}
			if tc.status == 200 && tc.ctype == "application/x-www-form-urlencoded" && rec.Body.String() != "done" {
				t.Fatalf("handler did not run: %q", rec.Body.String())
			}
		})
	}
}

func TestFormBodyIsKeptForTheHandler(t *testing.T) {
	var got string
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	p, _ := csrf.New(csrf.Options{Manager: m})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t", func(w http.ResponseWriter, r *http.Request) { tok, _ := csrf.Token(r); _, _ = w.Write([]byte(tok)) })
	mux.HandleFunc("POST /f", func(w http.ResponseWriter, r *http.Request) { _ = r.ParseForm(); got = r.PostForm.Get("name") })
	srv := m.Handler(p.Handler(mux))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/t", nil))
	req := httptest.NewRequest("POST", "/f", strings.NewReader("name=alice&csrf_token="+rec.Body.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(rec.Result().Cookies()[0])
	out := httptest.NewRecorder()
	srv.ServeHTTP(out, req)
	if out.Code != 200 || got != "alice" {
		t.Fatalf("got %d and name %q, want 200 and alice", out.Code, got)
	}
}

func TestNewRejectsBadTrustedOrigin(t *testing.T) {
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if _, err := csrf.New(csrf.Options{Manager: m, TrustedOrigins: []string{"not a url"}}); err == nil {
		t.Fatal("New with an invalid trusted origin: got nil, want an error")
	}
	if _, err := csrf.New(csrf.Options{}); err == nil {
		t.Fatal("New without a Manager: got nil, want an error")
	}
}

// FuzzCheck throws arbitrary tokens and Origin / Sec-Fetch-Site / proxy
// headers at the check: it must never panic, never accept a wrong token, and
// never accept a request that Sec-Fetch-Site marks cross-site.
func FuzzCheck(f *testing.F) {
	fx := setup(f)
	f.Add("", "", "", "")
	f.Add(fx.token, "same-origin", "", "")
	f.Add(fx.token, "cross-site", "https://evil.example", "evil.example")
	f.Add(fx.token[:10], "", "http://example.com", "")
	f.Add("\x00", "none", "null", "a, b")
	f.Fuzz(func(t *testing.T, token, site, origin, fwdHost string) {
		req := httptest.NewRequest("POST", "/x", nil)
		req.Header.Set("X-CSRF-Token", token)
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Forwarded-Host", fwdHost)
		req.AddCookie(fx.cookie)
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code == 200 && token != fx.token {
			t.Fatalf("accepted a wrong token %q", token)
		}
		if rec.Code == 200 && (site == "cross-site" || site == "same-site") {
			t.Fatalf("accepted a %s request", site)
		}
		if rec.Code != 200 && rec.Code != 403 {
			t.Fatalf("status %d, want 200 or 403", rec.Code)
		}
	})
}

// A store outage is not a CSRF failure: the check cannot know the session's
// token, so it answers 503 through the Manager's error handler
// (Config.ErrorHandler), never the CSRF error handler, and reports no
// csrf_failure event. Regression: the check read the token with GetString,
// which gives "" during an outage, and logged a false csrf_failure
// (reason no_session_token) on every unsafe request, e.g. POST /logout with
// Redis stopped.
func TestStoreOutageIs503WithoutCSRFFailure(t *testing.T) {
	a := newApp(t, appConfig{csrfHandler: true})
	a.store.down.Store(true)
	cases := []struct {
		name  string
		ctype string
		body  string
		hdr   bool
	}{
		{"header token", "", "", true},
		{"form token", "application/x-www-form-urlencoded", "csrf_token=TOKEN", false},
		{"no token", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/logout", strings.NewReader(strings.ReplaceAll(tc.body, "TOKEN", a.token)))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.hdr {
				req.Header.Set(csrf.HeaderName, a.token)
			}
			rec := a.serve(req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Session store unavailable") {
				t.Fatalf("got %d %q, want 503 Session store unavailable", rec.Code, rec.Body.String())
			}
			if f := a.failures(); len(f) != 0 {
				t.Fatalf("csrf_failure events: got %v, want none", f)
			}
			if a.ran.Load() != 0 {
				t.Fatal("the handler ran during the outage")
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.csrfErrs) != 0 {
				t.Fatalf("Options.ErrorHandler got %v, want not called", a.csrfErrs)
			}
			if len(a.mgrErrs) == 0 || !errors.Is(a.mgrErrs[0], tether.ErrStoreUnavailable) {
				t.Fatalf("Config.ErrorHandler got %v, want ErrStoreUnavailable", a.mgrErrs)
			}
		})
	}
	a.store.down.Store(false)
	req := httptest.NewRequest("POST", "/logout", nil)
	req.Header.Set(csrf.HeaderName, a.token)
	if rec := a.serve(req); rec.Code != 200 {
		t.Fatalf("after the outage: got %d %q, want 200 (the token still holds)", rec.Code, rec.Body.String())
	}
}

// Check and Token hand the outage to their caller as the session's load
// error, not as ErrNoToken or a fresh token that cannot be kept.
func TestCheckAndTokenReportTheLoadError(t *testing.T) {
	store := &flakyStore{Store: memstore.New()}
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	var checkErr, tokenErr error
	var tok string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			tok, tokenErr = csrf.Token(r)
			return
		}
		checkErr = p.Check(r)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	cookie := rec.Result().Cookies()[0]
	first := tok
	store.down.Store(true)
	for _, method := range []string{"GET", "POST"} {
		req := httptest.NewRequest(method, "/", nil)
		req.Header.Set(csrf.HeaderName, first)
		req.AddCookie(cookie)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if !errors.Is(tokenErr, tether.ErrStoreUnavailable) || tok != "" {
		t.Errorf("Token during an outage: got %q, %v; want \"\" and ErrStoreUnavailable", tok, tokenErr)
	}
	if !errors.Is(checkErr, tether.ErrStoreUnavailable) {
		t.Errorf("Check during an outage: got %v, want ErrStoreUnavailable", checkErr)
	}
}

// Options.ErrorHandler answers every refusal, with the error Check
// returned, after the csrf_failure event; an HTML app renders a page with
// StatusOf's status.
func TestErrorHandlerReceivesEachFailure(t *testing.T) {
	a := newApp(t, appConfig{csrfHandler: true, opts: csrf.Options{MaxBodyBytes: 100}})
	cases := []struct {
		name    string
		hdr     []string
		ctype   string
		body    string
		noToken bool // a session that never asked for a token
		want    error
		status  int
		reason  string
	}{
		{"cross origin", []string{"Sec-Fetch-Site", "cross-site", csrf.HeaderName, "TOKEN"}, "", "", false, csrf.ErrCrossOrigin, 403, "cross_origin"},
		{"missing", nil, "", "", false, csrf.ErrMissingToken, 403, "missing_token"},
		{"bad", []string{csrf.HeaderName, "nope"}, "", "", false, csrf.ErrBadToken, 403, "bad_token"},
		{"no session token", []string{csrf.HeaderName, "TOKEN"}, "", "", true, csrf.ErrNoToken, 403, "no_session_token"},
		{"too large", nil, "application/x-www-form-urlencoded", strings.Repeat("a", 101), false, csrf.ErrBodyTooLarge, 413, "body_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], strings.ReplaceAll(tc.hdr[i+1], "TOKEN", a.token))
			}
			var rec *httptest.ResponseRecorder
			if tc.noToken {
				rec = httptest.NewRecorder()
				a.mu.Lock()
				a.events, a.csrfErrs = nil, nil
				a.mu.Unlock()
				a.h.ServeHTTP(rec, req) // no cookie: no session, no token
			} else {
				rec = a.serve(req)
			}
			if rec.Code != tc.status || !strings.HasPrefix(rec.Body.String(), "<!doctype html>") {
				t.Fatalf("got %d %q, want %d and the HTML page", rec.Code, rec.Body.String(), tc.status)
			}
			a.mu.Lock()
			errs := a.csrfErrs
			a.mu.Unlock()
			if len(errs) != 1 || !errors.Is(errs[0], tc.want) {
				t.Fatalf("ErrorHandler got %v, want one %v", errs, tc.want)
			}
			if f := a.failures(); len(f) != 1 || f[0] != tc.reason {
				t.Fatalf("csrf_failure reasons: got %v, want [%s]", f, tc.reason)
			}
		})
	}
}

// A Protector outside Manager.Handler is a wiring mistake: 500 through the
// Manager's error handler, no csrf_failure (which would blame the client).
func TestWithoutSessionMiddlewareIs500(t *testing.T) {
	var events []tether.Event
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
		OnEvent: func(e tether.Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("the handler ran") }))
	req := httptest.NewRequest("POST", "/x", nil)
	req.Header.Set(csrf.HeaderName, "x")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("got %d %q, want 500", rec.Code, rec.Body.String())
	}
	for _, e := range events {
		if e.Type == tether.EventCSRFFailure {
			t.Fatal("got a csrf_failure event, want none")
		}
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err    error
		status int
		msg    string
	}{
		{csrf.ErrCrossOrigin, 403, "Cross-origin request refused"},
		{csrf.ErrNoToken, 403, "Invalid CSRF token"},
		{csrf.ErrMissingToken, 403, "Invalid CSRF token"},
		{csrf.ErrBadToken, 403, "Invalid CSRF token"},
		{fmt.Errorf("wrapped: %w", csrf.ErrBadToken), 403, "Invalid CSRF token"},
		{csrf.ErrBodyTooLarge, 413, "Request body too large"},
		{csrf.ErrBodyRead, 400, "Could not read the request body"},
		{errors.New("anything else"), 403, "Invalid CSRF token"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			status, msg := csrf.StatusOf(tc.err)
			if status != tc.status || msg != tc.msg {
				t.Fatalf("got %d %q, want %d %q", status, msg, tc.status, tc.msg)
			}
		})
	}
}

func TestNewRejectsNegativeMaxBodyBytes(t *testing.T) {
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	_, err := csrf.New(csrf.Options{Manager: m, MaxBodyBytes: -1})
	if err == nil || !strings.Contains(err.Error(), "MaxBodyBytes") {
		t.Fatalf("New with MaxBodyBytes -1: got %v, want an error naming MaxBodyBytes", err)
	}
}

// With two Managers on one request (a user area and an admin area with
// their own cookies), a Protector checks the session of its own Manager,
// even when another Manager's Handler runs inside; Protector.Token issues
// that session's token, while the package-level Token uses the innermost
// session.
func TestTwoManagers(t *testing.T) {
	newManager := func(cookie string) *tether.Manager {
		m, err := tether.New(tether.Config{Store: memstore.New(), CookieName: cookie, Secrets: [][]byte{bytes.Repeat([]byte(cookie), 32)}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	outer, inner := newManager("a"), newManager("b")
	p, err := csrf.New(csrf.Options{Manager: outer})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protector-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := p.Token(r)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write([]byte(tok))
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write([]byte(tok))
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("done")) })
	h := outer.Handler(inner.Handler(p.Handler(mux)))
	var cookies []*http.Cookie
	get := func(path string) string {
		req := httptest.NewRequest("GET", path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		cookies = append(cookies, rec.Result().Cookies()...)
		return rec.Body.String()
	}
	post := func(tok string) int {
		req := httptest.NewRequest("POST", "/", nil)
		req.Header.Set(csrf.HeaderName, tok)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	innerTok := get("/token")
	if code := post(innerTok); code != http.StatusForbidden {
		t.Fatalf("POST with the inner session's token: got %d, want 403", code)
	}
	outerTok := get("/protector-token")
	if outerTok == innerTok || len(outerTok) != 64 {
		t.Fatalf("Protector.Token: got %q, want a token of its own session, not %q", outerTok, innerTok)
	}
	if code := post(outerTok); code != http.StatusOK {
		t.Fatalf("POST with the Protector's token: got %d, want 200", code)
	}
}

package csrf_test

import (
	"bytes"
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

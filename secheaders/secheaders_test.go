package secheaders_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tetherhq/tether/secheaders"
)

func serve(t *testing.T, p secheaders.Policy, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Handler(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	return rec
}

func TestDefaultHeaders(t *testing.T) {
	for _, production := range []bool{false, true} {
		rec := serve(t, secheaders.Default(production), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			w.Header().Set("Server", "nginx/1.25.3")
			_, _ = w.Write([]byte("ok"))
		})
		h := rec.Header()
		want := map[string]string{
			"Cross-Origin-Opener-Policy":        "same-origin",
			"Cross-Origin-Resource-Policy":      "same-origin",
			"Origin-Agent-Cluster":              "?1",
			"Referrer-Policy":                   "no-referrer",
			"X-Content-Type-Options":            "nosniff",
			"X-Frame-Options":                   "DENY",
			"X-DNS-Prefetch-Control":            "off",
			"X-Download-Options":                "noopen",
			"X-Permitted-Cross-Domain-Policies": "none",
			"X-XSS-Protection":                  "0",
		}
		for name, v := range want {
			if got := h.Get(name); got != v {
				t.Errorf("production=%v %s: got %q, want %q", production, name, got, v)
			}
		}
		if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "geolocation=()") {
			t.Errorf("Permissions-Policy: got %q", pp)
		}
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src-attr 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("production=%v CSP %q: missing %q", production, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q allows unsafe-inline", csp)
		}
		hsts := h.Get("Strict-Transport-Security")
		switch {
		case production && hsts != "max-age=31536000; includeSubDomains":
			t.Errorf("production HSTS: got %q, want max-age=31536000; includeSubDomains", hsts)
		case !production && hsts != "":
			t.Errorf("development HSTS: got %q, want none", hsts)
		}
		if strings.Contains(csp, "upgrade-insecure-requests") != production {
			t.Errorf("production=%v: upgrade-insecure-requests in %q", production, csp)
		}
		if h.Get("X-Powered-By") != "" || h.Get("Server") != "" {
			t.Errorf("X-Powered-By %q / Server %q: want both removed", h.Get("X-Powered-By"), h.Get("Server"))
		}
	}
}

func TestNonce(t *testing.T) {
	var seen []string
	p := secheaders.Default(false)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, secheaders.Nonce(r))
	}))
	var csps []string
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		csps = append(csps, rec.Header().Get("Content-Security-Policy"))
	}
	if seen[0] == "" || seen[0] == seen[1] {
		t.Fatalf("nonces: got %q, want two different non-empty values", seen)
	}
	for i, csp := range csps {
		re := regexp.MustCompile(`script-src 'self' 'nonce-` + regexp.QuoteMeta(seen[i]) + `'.*style-src 'self' 'nonce-` + regexp.QuoteMeta(seen[i]) + `'`)
		if !re.MatchString(csp) {
			t.Fatalf("CSP %q: want the request's nonce in script-src and style-src", csp)
		}
		// Without its nonce sources, the header is exactly the policy's
		// nonce-free rendering.
		plain := secheaders.Default(false)
		plain.CSP.Nonce = false
		rec := httptest.NewRecorder()
		plain.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got, want := strings.ReplaceAll(csp, " 'nonce-"+seen[i]+"'", ""), rec.Header().Get("Content-Security-Policy"); got != want {
			t.Fatalf("CSP without its nonce:\ngot  %q\nwant %q", got, want)
		}
	}
}

// TestNonceOnlyWhenAsked: a response declared as data whose handler never
// asks for a nonce carries the nonce-free policy (no inline script or style
// at all); anything that may be a page carries the request's nonce, even if
// the handler asks for it only while rendering; a handler's own policy
// stands; a data response that asks too late does not get the nonce into
// its policy, so the browser blocks what uses it (fails closed).
func TestNonceOnlyWhenAsked(t *testing.T) {
	plain := secheaders.Default(false)
	plain.CSP.Nonce = false
	free := serve(t, plain, func(w http.ResponseWriter, r *http.Request) {}).Header().Get("Content-Security-Policy")
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request) string // returns the nonce it used
		want    func(nonce string) string
	}{
		{"JSON, never asks", func(w http.ResponseWriter, r *http.Request) string {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"ok":true}`))
			return ""
		}, func(string) string { return free }},
		{"plain text, never asks", func(w http.ResponseWriter, r *http.Request) string {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNoContent)
			return ""
		}, func(string) string { return free }},
		{"HTML page asking while it renders, after its first write", func(w http.ResponseWriter, r *http.Request) string {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!doctype html><p>"))
			n := secheaders.Nonce(r)
			_, _ = w.Write([]byte(`<script nonce="` + n + `"></script>`))
			return n
		}, func(n string) string { return nonced(free, n) }},
		{"undeclared type (sniffed, may be HTML)", func(w http.ResponseWriter, r *http.Request) string {
			_, _ = w.Write([]byte("<p>"))
			return secheaders.Nonce(r)
		}, func(n string) string { return nonced(free, n) }},
		{"writes nothing and never asks", func(w http.ResponseWriter, r *http.Request) string {
			return secheaders.Nonce(r)
		}, func(n string) string { return nonced(free, n) }},
		{"asks, then writes", func(w http.ResponseWriter, r *http.Request) string {
			n := secheaders.Nonce(r)
			_, _ = w.Write([]byte(`<script nonce="` + n + `"></script>`))
			return n
		}, func(n string) string {
			return nonced(free, n)
		}},
		{"asks twice from two goroutines", func(w http.ResponseWriter, r *http.Request) string {
			ch := make(chan string)
			go func() { ch <- secheaders.Nonce(r) }()
			n1, n2 := secheaders.Nonce(r), <-ch
			if n1 != n2 {
				t.Errorf("one request, two nonces: got %q and %q, want one", n1, n2)
			}
			w.WriteHeader(http.StatusOK)
			return n1
		}, func(n string) string { return nonced(free, n) }},
		{"replaces the policy", func(w http.ResponseWriter, r *http.Request) string {
			n := secheaders.Nonce(r)
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
			_, _ = w.Write(nil)
			return n
		}, func(string) string { return "default-src 'none'" }},
		{"JSON after 103 Early Hints", func(w http.ResponseWriter, r *http.Request) string {
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
			return ""
		}, func(string) string { return free }},
		{"JSON asking after the response started", func(w http.ResponseWriter, r *http.Request) string {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
			return secheaders.Nonce(r)
		}, func(string) string { return free }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n string
			rec := serve(t, secheaders.Default(false), func(w http.ResponseWriter, r *http.Request) { n = tt.handler(w, r) })
			if got, want := rec.Header().Values("Content-Security-Policy"), tt.want(n); len(got) != 1 || got[0] != want {
				t.Fatalf("CSP:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// nonced is the default policy free with nonce added to script-src and style-src.
func nonced(free, nonce string) string {
	for _, d := range []string{"script-src 'self'", "style-src 'self'"} {
		free = strings.Replace(free, d, d+" 'nonce-"+nonce+"'", 1)
	}
	return free
}

// Header values are shared between responses for speed; a handler that
// adds to or replaces one must not change what the next response gets.
func TestSharedHeaderValuesStayPerResponse(t *testing.T) {
	p := secheaders.Default(false)
	p.CSP.Nonce = false
	first := true
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first {
			first = false
			w.Header().Add("X-Frame-Options", "SAMEORIGIN")
			w.Header().Add("Content-Security-Policy", "sandbox")
			w.Header().Set("Referrer-Policy", "origin")
		}
	}))
	for i, want := range [][3]string{{"DENY,SAMEORIGIN", "2", "origin"}, {"DENY", "1", "no-referrer"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		got := [3]string{strings.Join(rec.Header().Values("X-Frame-Options"), ","),
			fmt.Sprint(len(rec.Header().Values("Content-Security-Policy"))), rec.Header().Get("Referrer-Policy")}
		if got != want {
			t.Fatalf("response %d: got %q, want %q", i+1, got, want)
		}
	}
}

func TestPerRoutePolicy(t *testing.T) {
	embed := secheaders.Default(false)
	embed.FrameOptions = ""
	embed.CSP = &secheaders.CSP{Directives: []secheaders.Directive{
		{Name: "default-src", Sources: []string{"'self'"}},
		{Name: "frame-ancestors", Sources: []string{"https://partner.example"}},
	}}
	mux := http.NewServeMux()
	mux.Handle("/widget", embed.Handler(http.NotFoundHandler()))
	mux.Handle("/", secheaders.Default(false).Handler(http.NotFoundHandler()))
	for path, want := range map[string][2]string{
		"/widget": {"", "frame-ancestors https://partner.example"},
		"/":       {"DENY", "frame-ancestors 'none'"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := rec.Header().Get("X-Frame-Options"); got != want[0] {
			t.Errorf("%s X-Frame-Options: got %q, want %q", path, got, want[0])
		}
		if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, want[1]) {
			t.Errorf("%s CSP: got %q, want %q in it", path, got, want[1])
		}
	}
}

func TestInvalidPolicyPanics(t *testing.T) {
	cases := map[string]func(*secheaders.Policy){
		"line break in a value":  func(p *secheaders.Policy) { p.ReferrerPolicy = "no-referrer\r\nSet-Cookie: x=1" },
		"duplicate directive":    func(p *secheaders.Policy) { p.CSP.Directives = append(p.CSP.Directives, p.CSP.Directives[0]) },
		"source with semicolon":  func(p *secheaders.Policy) { p.CSP.Directives[0].Sources = []string{"'self'; script-src *"} },
		"preload without a year": func(p *secheaders.Policy) { p.HSTSPreload = true; p.HSTSMaxAge = 3600 },
		"empty CSP":              func(p *secheaders.Policy) { p.CSP = &secheaders.CSP{} },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			p := secheaders.Default(true)
			mod(&p)
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(r.(string), "secheaders: ") {
					t.Fatalf("Handler: got panic %v, want one starting with secheaders:", r)
				}
			}()
			p.Handler(http.NotFoundHandler())
		})
	}
}

func TestReportOnly(t *testing.T) {
	p := secheaders.Default(false)
	p.CSP.ReportOnly = true
	rec := serve(t, p, func(w http.ResponseWriter, r *http.Request) {})
	if rec.Header().Get("Content-Security-Policy") != "" || rec.Header().Get("Content-Security-Policy-Report-Only") == "" {
		t.Fatalf("report-only: got %v", rec.Header())
	}
}

func ExamplePolicy_Handler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<script nonce="` + secheaders.Nonce(r) + `">console.log("allowed")</script>`))
	})
	h := secheaders.Default(true).Handler(mux)
	_ = h // http.ListenAndServe(addr, h)
}

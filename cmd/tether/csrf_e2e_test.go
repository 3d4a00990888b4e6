package main

import (
	"net/url"
	"strings"
	"testing"
)

// Cross-origin requests against the real server, with and without a
// trusted proxy (the 2025 gorilla/csrf and nosurf CVEs came from scheme and
// proxy-header assumptions). A browser cannot forge a login, a logout or a
// password change from another site; curl, which sends neither Origin nor
// Sec-Fetch-Site, still works; no X-Forwarded-* header, trusted or not,
// turns a foreign origin into our own.
func TestCrossOriginEndToEnd(t *testing.T) {
	type req struct {
		name, method, path string
		hdr                []string
		withToken          bool // send the session's CSRF token
		status             int
	}
	login := `{"username":"alice","password":"correct-horse"}`
	run := func(t *testing.T, in *instance, cases []req) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := in.client()
				expect(t, "login first (curl-like)", c.login("alice", "correct-horse"), 200, "")
				hdr := tc.hdr
				if tc.withToken {
					hdr = append([]string{"X-CSRF-Token", c.csrfToken()}, hdr...)
				}
				body := ""
				if tc.path == "/login" {
					body = login
				}
				if tc.path == "/password" {
					body = `{"currentPassword":"correct-horse","newPassword":"correct-horse"}`
				}
				before := strings.Count(in.events.String(), `"event":"csrf_failure"`)
				r := c.do(tc.method, tc.path, "application/json", body, hdr...)
				if r.status != tc.status {
					t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
				}
				if tc.status == 403 {
					if !strings.HasPrefix(r.body, `{"error":`) {
						t.Fatalf("body: got %q, want {\"error\":…}", r.body)
					}
					if after := strings.Count(in.events.String(), `"event":"csrf_failure"`); after != before+1 {
						t.Fatalf("csrf_failure events: got %d new, want 1", after-before)
					}
				}
			})
		}
	}
	t.Run("no proxy", func(t *testing.T) {
		in := start(t, t.TempDir(), env())
		host := mustHost(t, in.base)
		run(t, in, []req{
			{"curl login", "POST", "/login", nil, false, 200},
			{"curl logout", "POST", "/logout", nil, false, 200},
			{"login forged by another site (Sec-Fetch-Site)", "POST", "/login", []string{"Sec-Fetch-Site", "cross-site"}, false, 403},
			{"logout forged by another site (Origin only, older browser)", "POST", "/logout", []string{"Origin", "https://evil.example"}, false, 403},
			{"same-site subdomain", "POST", "/logout", []string{"Sec-Fetch-Site", "same-site"}, false, 403},
			{"our own page", "POST", "/logout", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + host}, false, 200},
			{"our own Origin, older browser", "POST", "/logout", []string{"Origin", "http://" + host}, false, 200},
			{"password change with the token but cross-site", "POST", "/password", []string{"Sec-Fetch-Site", "cross-site"}, true, 403},
			{"password change without the token, same-origin", "POST", "/password", []string{"Sec-Fetch-Site", "same-origin"}, false, 403},
			{"password change with the token, same-origin", "POST", "/password", []string{"Sec-Fetch-Site", "same-origin"}, true, 200},
			{"X-Forwarded-Host from an untrusted client", "POST", "/logout", []string{"Origin", "https://evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, false, 403},
		})
	})
	t.Run("behind a trusted proxy that keeps Host", func(t *testing.T) {
		in := start(t, t.TempDir(), env("TRUST_PROXY", "1"))
		host := mustHost(t, in.base)
		run(t, in, []req{
			// TLS ends at the proxy: the browser's Origin says https, the
			// server sees http plus X-Forwarded-Proto; hosts match.
			{"our https page", "POST", "/logout", []string{"Origin", "https://" + host, "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9"}, false, 200},
			{"forged from another site", "POST", "/login", []string{"Origin", "https://evil.example", "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9"}, false, 403},
			{"trusted proxy's X-Forwarded-Host does not whitelist", "POST", "/logout", []string{"Origin", "https://evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9"}, false, 403},
			{"Sec-Fetch-Site cross-site", "POST", "/logout", []string{"Sec-Fetch-Site", "cross-site", "X-Forwarded-For", "203.0.113.9"}, false, 403},
		})
	})
	t.Run("behind a proxy that rewrites Host, with CSRF_TRUSTED_ORIGINS", func(t *testing.T) {
		in := start(t, t.TempDir(), env("TRUST_PROXY", "1", "CSRF_TRUSTED_ORIGINS", "https://app.example"))
		run(t, in, []req{
			{"the public origin, older browser", "POST", "/logout", []string{"Origin", "https://app.example", "X-Forwarded-Host", "app.example"}, false, 200},
			{"the public origin over plain http is another origin", "POST", "/logout", []string{"Origin", "http://app.example"}, false, 403},
			{"another origin", "POST", "/logout", []string{"Origin", "https://evil.example", "X-Forwarded-Host", "evil.example"}, false, 403},
		})
	})
}

func mustHost(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

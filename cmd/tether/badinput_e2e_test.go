package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	in := start(t, t.TempDir(), env())
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	sid := c.sid()
	big := `{"username":"alice","password":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name   string
		method string
		path   string
		ctype  string
		body   string
		hdr    []string
		status int
	}{
		{"malformed JSON", "POST", "/login", "application/json", `{"username":`, nil, 400},
		{"JSON array", "POST", "/login", "application/json", `["alice"]`, nil, 400},
		{"number for a string", "POST", "/login", "application/json", `{"username":1,"password":"x"}`, nil, 400},
		{"wrong content type", "POST", "/login", "text/plain", `{"username":"alice","password":"correct-horse"}`, nil, 415},
		{"no content type", "POST", "/login", "", `{"username":"alice"}`, nil, 415},
		{"missing fields", "POST", "/login", "application/json", `{}`, nil, 400},
		{"body over 1 MiB", "POST", "/login", "application/json", big, nil, 413},
		{"oversized cookie", "GET", "/profile", "", "", []string{"Cookie", "sid=" + strings.Repeat("A", 8000)}, 431},
		{"duplicate cookies", "GET", "/profile", "", "", []string{"Cookie", "sid=" + sid + "; sid=" + sid}, 400},
		{"wrong method", "GET", "/logout", "", "", nil, 405}, // GET /login is the sign-in page
		{"unsafe method without a CSRF token", "DELETE", "/profile", "", "", nil, 403},
		{"unknown route", "GET", "/nope", "", "", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := in.client() // no jar cookies: headers are set by hand
			r := raw.do(tc.method, tc.path, tc.ctype, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
			}
			var e map[string]string
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e["error"] == "" {
				t.Fatalf("body: got %q, want {\"error\":\"…\"}", r.body)
			}
		})
	}
	expect(t, "form login still works", in.client().do("POST", "/login", "application/x-www-form-urlencoded", "username=alice&password=correct-horse"), 200, `{"ok":true,"user":"alice"}`)
	expect(t, "session unharmed", c.get("/profile"), 200, "")
}

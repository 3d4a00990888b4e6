package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWalkthrough replays the seed tutorial's curl walkthrough and the
// session guarantees against the real server.
func TestWalkthrough(t *testing.T) { walkthrough(t, env()) }

// walkthrough is TestWalkthrough on a server started with getenv.
func walkthrough(t *testing.T, getenv func(string) string) {
	dir := t.TempDir()
	in := start(t, dir, getenv)
	c := in.client()

	expect(t, "GET /", c.get("/"), 200, "Server is running.")
	expect(t, "views 1", c.get("/views"), 200, `{"views":1}`)
	expect(t, "views 2", c.get("/views"), 200, `{"views":2}`)
	pre := c.sid()
	if pre == "" {
		t.Fatal("no sid cookie after /views")
	}

	expect(t, "bad password", c.login("alice", "wrong-horse"), 401, `{"error":"Invalid credentials"}`)
	expect(t, "unknown user", c.login("mallory", "correct-horse"), 401, `{"error":"Invalid credentials"}`)
	if c.sid() != pre {
		t.Fatal("a failed login changed the session cookie")
	}

	r := c.login("alice", "correct-horse")
	expect(t, "login", r, 200, `{"ok":true,"user":"alice"}`)
	var sc string
	for _, v := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "sid=") {
			sc = v
		}
	}
	for _, want := range []string{"sid=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=1800"} {
		if !strings.Contains(sc, want) {
			t.Errorf("login Set-Cookie %q: missing %q", sc, want)
		}
	}
	post := c.sid()
	if post == pre || post == "" {
		t.Fatalf("login did not rotate the cookie")
	}
	expect(t, "profile", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	expect(t, "views start afresh at login (issue 11 row 4)", c.get("/views"), 200, `{"views":1}`)

	old := in.client()
	old.setSID(pre)
	expect(t, "pre-login cookie after login", old.get("/profile"), 401, `{"error":"Not authenticated"}`)
	expect(t, "pre-login cookie's counter is gone", old.get("/views"), 200, `{"views":1}`)

	tok := c.get("/csrf-token")
	var ct struct{ CSRFToken string }
	if err := json.Unmarshal([]byte(tok.body), &ct); err != nil || tok.status != 200 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ct.CSRFToken) {
		t.Fatalf("csrf-token: got %d %s, want {\"csrfToken\":<64 hex>}", tok.status, tok.body)
	}
	if again := c.get("/csrf-token"); again.body != tok.body {
		t.Fatalf("csrf-token is not stable within a session: %s then %s", tok.body, again.body)
	}

	tampered := in.client()
	b := []byte(post)
	b[10] = map[bool]byte{true: 'B', false: 'A'}[b[10] == 'A']
	tampered.setSID(string(b))
	expect(t, "tampered cookie", tampered.get("/profile"), 401, `{"error":"Not authenticated"}`)

	r = c.do("POST", "/logout", "", "")
	expect(t, "logout", r, 200, `{"ok":true}`)
	if got := r.header.Get("Clear-Site-Data"); got != "" { // issue 11 row 1: the session cookie only
		t.Errorf("logout Clear-Site-Data: got %q, want none", got)
	}
	expect(t, "profile after logout", c.get("/profile"), 401, `{"error":"Not authenticated"}`)
	replay := in.client()
	replay.setSID(post)
	expect(t, "replayed cookie after logout", replay.get("/profile"), 401, `{"error":"Not authenticated"}`)

	in.stop()
	ev := in.events.String()
	for _, e := range []string{"login_success", "login_failure", "logout", "session_regenerated", "session_rejected", "session_created"} {
		if !strings.Contains(ev, `"event":"`+e+`"`) {
			t.Errorf("events: no %s in\n%s", e, ev)
		}
	}
	checkEventLines(t, ev, pre, post)
	secret, err := os.ReadFile(filepath.Join(dir, "session.secret"))
	if err != nil {
		t.Fatalf("development secret: %v", err)
	}
	for _, s := range []string{strings.TrimSpace(string(secret)), "correct-horse", "wrong-horse"} {
		if strings.Contains(ev, s) {
			t.Fatalf("events contain a secret or password")
		}
	}
}

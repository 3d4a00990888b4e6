package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func (c *client) sessions() sessionsBody {
	c.t.Helper()
	r := c.get("/sessions")
	var b sessionsBody
	if r.status != 200 || json.Unmarshal([]byte(r.body), &b) != nil {
		c.t.Fatalf("GET /sessions: got %d %s", r.status, r.body)
	}
	return b
}

// Three devices: list, end one, end the others; ids are handles, never the
// token or store key.
func TestMySessions(t *testing.T) {
	for name, mk := range deployments {
		t.Run(name, func(t *testing.T) {
			in := start(t, t.TempDir(), mk(t))
			devices := []*client{in.client(), in.client(), in.client()}
			for i, d := range devices {
				d.ua = []string{"Laptop/1", "Phone/2", "Tablet/3"}[i]
				expect(t, "login", d.login("alice", "correct-horse"), 200, "")
			}
			list := devices[0].sessions()
			if len(list.Sessions) != 3 {
				t.Fatalf("sessions: got %d, want 3", len(list.Sessions))
			}
			current := 0
			for _, s := range list.Sessions {
				if s.Current {
					current++
					if s.UserAgent != "Laptop/1" {
						t.Errorf("current session's user agent: got %q", s.UserAgent)
					}
				}
				if len(s.ID) != 16 || s.IP != "127.0.0.1" || s.CreatedAt == "" || s.LastSeenAt == "" {
					t.Errorf("session entry: got %+v", s)
				}
				for _, d := range devices {
					tok := d.sid()[:strings.IndexByte(d.sid(), '.')]
					if strings.Contains(s.ID, tok) || strings.Contains(tok, s.ID) {
						t.Fatal("a session id reveals a token")
					}
				}
			}
			if current != 1 {
				t.Fatalf("current sessions: got %d, want 1", current)
			}
			// End the phone's session from the laptop.
			var phoneID string
			for _, s := range list.Sessions {
				if s.UserAgent == "Phone/2" {
					phoneID = s.ID
				}
			}
			r := devices[0].do("DELETE", "/sessions/"+phoneID, "", "", "X-CSRF-Token", devices[0].csrfToken())
			expect(t, "delete the phone's session", r, 200, `{"endedSessions":1,"ok":true}`)
			expect(t, "phone logged out", devices[1].get("/profile"), 401, "")
			expect(t, "unknown id", devices[0].do("DELETE", "/sessions/0123456789abcdef", "", "", "X-CSRF-Token", devices[0].csrfToken()), 404, "")
			expect(t, "another user's session cannot be named", devices[2].do("DELETE", "/sessions/"+phoneID, "", "", "X-CSRF-Token", devices[2].csrfToken()), 404, "")
			r = devices[0].post("/sessions/revoke-others", `{}`)
			expect(t, "revoke others", r, 200, `{"endedSessions":1,"ok":true}`)
			expect(t, "tablet logged out", devices[2].get("/profile"), 401, "")
			expect(t, "laptop still in", devices[0].get("/profile"), 200, "")
			if n := len(devices[0].sessions().Sessions); n != 1 {
				t.Fatalf("sessions after revoking others: got %d, want 1", n)
			}
		})
	}
}

// SESSION_MAX_PER_USER: a login beyond the cap ends the oldest session.
func TestSessionCap(t *testing.T) {
	in := start(t, t.TempDir(), env("SESSION_MAX_PER_USER", "2"))
	first, second, third := in.client(), in.client(), in.client()
	for _, c := range []*client{first, second, third} {
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	}
	expect(t, "oldest session ended", first.get("/profile"), 401, "")
	expect(t, "second still in", second.get("/profile"), 200, "")
	expect(t, "third still in", third.get("/profile"), 200, "")
	if n := len(third.sessions().Sessions); n != 2 {
		t.Fatalf("sessions: got %d, want 2", n)
	}
	in.stop()
	if !strings.Contains(in.events.String(), `"reason":"session_cap"`) {
		t.Fatalf("no session_revoked event for the cap:\n%s", in.events)
	}
}

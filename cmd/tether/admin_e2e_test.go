package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The admin CLI acts on the same stores as a running server: sessions
// listed and revoked, a password change and a disabled account end every
// session at once.
func TestAdminCLIWhileServerRuns(t *testing.T) {
	for name, mk := range deployments {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			getenv := mk(t)
			withDir := func(k string) string {
				if k == "DATA_DIR" {
					return dir
				}
				return getenv(k)
			}
			in := start(t, dir, getenv)
			var cliLog bytes.Buffer // the CLI's security events
			cli := func(stdin string, args ...string) string {
				t.Helper()
				var out bytes.Buffer
				if err := run(context.Background(), args, withDir, strings.NewReader(stdin), &out, &cliLog); err != nil {
					t.Fatalf("tether %s: %v", strings.Join(args, " "), err)
				}
				return out.String()
			}
			a, b := in.client(), in.client()
			expect(t, "login a", a.login("alice", "correct-horse"), 200, "")
			expect(t, "login b", b.login("alice", "correct-horse"), 200, "")
			list := cli("", "sessions", "list", "--user", "alice")
			if got := strings.Count(list, "\n"); got != 3 {
				t.Fatalf("sessions list: got %d lines, want a header and 2 sessions:\n%s", got, list)
			}
			id := strings.Fields(strings.Split(list, "\n")[1])[0]
			if out := cli("", "sessions", "revoke", "--user", "alice", "--id", id); !strings.Contains(out, "1 session(s)") {
				t.Fatalf("revoke one: %s", out)
			}
			if a.get("/profile").status == 200 && b.get("/profile").status == 200 {
				t.Fatal("revoking one session by id ended neither")
			}
			if err := run(context.Background(), []string{"sessions", "revoke", "--user", "alice", "--id", id}, withDir, strings.NewReader(""), &bytes.Buffer{}, &cliLog); err == nil || !strings.Contains(err.Error(), "alice has no session with id") {
				t.Fatalf("revoke the same id again: got %v, want an error saying there is no such session", err)
			}
			if a.get("/profile").status != 200 && b.get("/profile").status != 200 {
				t.Fatal("revoking an ended id ended the other session")
			}
			if out := cli("", "sessions", "revoke", "--user", "alice"); !strings.Contains(out, "1 session(s)") {
				t.Fatalf("revoke all: %s", out)
			}
			expect(t, "a after revoke", a.get("/profile"), 401, "")
			expect(t, "b after revoke", b.get("/profile"), 401, "")

			expect(t, "login again", a.login("alice", "correct-horse"), 200, "")
			if out := cli("new-password-1\n", "user", "passwd", "alice", "--password-stdin"); !strings.Contains(out, "1 session(s) ended") {
				t.Fatalf("passwd: %s", out)
			}
			expect(t, "session after passwd", a.get("/profile"), 401, "")
			expect(t, "new password", a.login("alice", "new-password-1"), 200, "")
			if out := cli("", "user", "disable", "alice"); !strings.Contains(out, "1 session(s) ended") {
				t.Fatalf("disable: %s", out)
			}
			expect(t, "session after disable", a.get("/profile"), 401, "")
			expect(t, "login when disabled", a.login("alice", "new-password-1"), 401, `{"error":"Invalid credentials"}`)
			cli("", "user", "enable", "alice")
			expect(t, "login when enabled", a.login("alice", "new-password-1"), 200, "")
			if out := cli("", "user", "list"); !strings.Contains(out, "alice") {
				t.Fatalf("user list: %s", out)
			}
			checkCLIEvents(t, cliLog.String(), "new-password-1", []string{
				"session_revoked admin", "session_revoked admin", "password_changed", "session_revoked password_changed",
				"user_disabled", "session_revoked account_disabled", "user_enabled"})
		})
	}
}

func TestAdminHTTP(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	dataEnv := env("DATA_DIR", dir)
	if err := run(context.Background(), []string{"user", "add", "--role", "admin", "bob", "--password-stdin"}, dataEnv, strings.NewReader("admin-pass-1\n"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	in := start(t, dir, env())
	alice1, alice2, bob := in.client(), in.client(), in.client()
	expect(t, "alice 1", alice1.login("alice", "correct-horse"), 200, "")
	expect(t, "alice 2", alice2.login("alice", "correct-horse"), 200, "")
	expect(t, "bob", bob.login("bob", "admin-pass-1"), 200, "")
	expect(t, "not an admin", alice1.get("/admin/users/alice/sessions"), 403, `{"error":"Admin role required"}`)
	expect(t, "unknown user", bob.get("/admin/users/nobody/sessions"), 404, "")
	r := bob.get("/admin/users/alice/sessions")
	var body sessionsBody
	if r.status != 200 || json.Unmarshal([]byte(r.body), &body) != nil || len(body.Sessions) != 2 {
		t.Fatalf("admin list: got %d %s, want alice's 2 sessions", r.status, r.body)
	}
	expect(t, "end one", bob.do("DELETE", "/admin/users/alice/sessions/"+body.Sessions[0].ID, "", "", "X-CSRF-Token", bob.csrfToken()), 200, `{"endedSessions":1,"ok":true}`)
	expect(t, "oldest alice session ended", alice1.get("/profile"), 401, "")
	expect(t, "end all", bob.do("DELETE", "/admin/users/alice/sessions", "", "", "X-CSRF-Token", bob.csrfToken()), 200, `{"endedSessions":1,"ok":true}`)
	expect(t, "other alice session ended", alice2.get("/profile"), 401, "")
	expect(t, "bob unaffected", bob.get("/profile"), 200, "")
}

// checkCLIEvents checks the admin CLI's security log: one JSON line per
// event, in order ("name reason" when the event has a reason), each naming
// the user and the actor, and never the password that was set.
func checkCLIEvents(t *testing.T, log, password string, want []string) {
	t.Helper()
	if strings.Contains(log, password) {
		t.Fatalf("the CLI's event log contains the password:\n%s", log)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var e struct{ Event, UserID, Actor, Username, Reason string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event line %q: %v", line, err)
		}
		if e.UserID != "user-1001" || e.Actor != "cli" || e.Username != "alice" {
			t.Errorf("event %q: got userId %q actor %q username %q, want user-1001, cli, alice", line, e.UserID, e.Actor, e.Username)
		}
		got = append(got, strings.TrimSpace(e.Event+" "+e.Reason))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("CLI events: got %v, want %v", got, want)
	}
}

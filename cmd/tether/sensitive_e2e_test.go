package main

import (
	"strings"
	"testing"
	"time"
)

// Two devices (two cookie jars): a password change needs a recent
// authentication, ends the other device's session and rotates the caller's.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	in := start(t, t.TempDir(), env())
	laptop, phone := in.client(), in.client()
	expect(t, "login on the laptop", laptop.login("alice", "correct-horse"), 200, "")
	expect(t, "login on the phone", phone.login("alice", "correct-horse"), 200, "")
	before := laptop.sid()

	expect(t, "wrong current password", laptop.post("/password", `{"currentPassword":"nope-nope","newPassword":"battery-staple"}`), 401, `{"error":"Invalid credentials"}`)
	expect(t, "too short", laptop.post("/password", `{"currentPassword":"correct-horse","newPassword":"short"}`), 400, "")
	expect(t, "no CSRF token", laptop.do("POST", "/password", "application/json", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`), 403, "")
	r := laptop.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`)
	expect(t, "change password", r, 200, `{"endedSessions":1,"ok":true}`)
	if laptop.sid() == before {
		t.Fatal("password change did not rotate the caller's token")
	}
	expect(t, "laptop still logged in", laptop.get("/profile"), 200, "")
	expect(t, "phone logged out", phone.get("/profile"), 401, "")
	old := in.client()
	old.setSID(before)
	expect(t, "laptop's old token", old.get("/profile"), 401, "")
	expect(t, "old password", in.client().login("alice", "correct-horse"), 401, "")
	expect(t, "new password", in.client().login("alice", "battery-staple"), 200, "")
	in.stop()
	for _, e := range []string{"password_changed", "session_revoked", "reauth_failure"} {
		if !strings.Contains(in.events.String(), `"event":"`+e+`"`) {
			t.Errorf("no %s event", e)
		}
	}
}

func TestReauthenticationWindow(t *testing.T) {
	in := start(t, t.TempDir(), env("SESSION_REAUTH_WINDOW", "1s"))
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	time.Sleep(1200 * time.Millisecond)
	expect(t, "password change after the window", c.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`), 401, `{"error":"Re-authentication required"}`)
	before := c.sid()
	expect(t, "wrong reauth", c.post("/reauth", `{"password":"nope-nope"}`), 401, "")
	expect(t, "reauth", c.post("/reauth", `{"password":"correct-horse"}`), 200, `{"ok":true}`)
	if c.sid() == before {
		t.Fatal("reauth did not rotate the token")
	}
	expect(t, "password change after reauth", c.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`), 200, "")
	expect(t, "reauth needs a session", in.client().post("/reauth", `{"password":"x"}`), 401, "")
	in.stop()
	if !strings.Contains(in.events.String(), `"event":"reauth_success"`) {
		t.Error("no reauth_success event")
	}
}

func TestContextBinding(t *testing.T) {
	t.Run("flag", func(t *testing.T) {
		in := start(t, t.TempDir(), env())
		c := in.client()
		expect(t, "login", c.do("POST", "/login", "application/json", `{"username":"alice","password":"correct-horse"}`, "User-Agent", "Browser/1"), 200, "")
		expect(t, "same context", c.do("GET", "/profile", "", "", "User-Agent", "Browser/1"), 200, "")
		expect(t, "new user agent: still served", c.do("GET", "/profile", "", "", "User-Agent", "Other/2"), 200, "")
		expect(t, "sensitive action now needs reauth", c.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`, "User-Agent", "Other/2"), 401, `{"error":"Re-authentication required"}`)
		expect(t, "reauth", c.post("/reauth", `{"password":"correct-horse"}`, "User-Agent", "Other/2"), 200, "")
		expect(t, "sensitive action after reauth", c.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple"}`, "User-Agent", "Other/2"), 200, "")
		in.stop()
		if n := strings.Count(in.events.String(), `"event":"binding_mismatch"`); n != 1 {
			t.Fatalf("binding_mismatch events: got %d, want 1 (logged once)\n%s", n, in.events)
		}
	})
	t.Run("strict", func(t *testing.T) {
		in := start(t, t.TempDir(), env("SESSION_BINDING", "strict"))
		c := in.client()
		expect(t, "login", c.do("POST", "/login", "application/json", `{"username":"alice","password":"correct-horse"}`, "User-Agent", "Browser/1"), 200, "")
		sid := c.sid()
		expect(t, "new user agent ends the session", c.do("GET", "/profile", "", "", "User-Agent", "Other/2"), 401, "")
		back := in.client()
		back.setSID(sid)
		expect(t, "even from the original context", back.do("GET", "/profile", "", "", "User-Agent", "Browser/1"), 401, "")
		in.stop()
		if !strings.Contains(in.events.String(), `"action":"session_ended"`) {
			t.Fatalf("no binding_mismatch with action session_ended in\n%s", in.events)
		}
	})
}

package main

import (
	"strings"
	"testing"
	"time"
)

// Roles over HTTP with two devices: a role change made with the CLI while
// the server runs rotates the token of each of the user's sessions at its
// next request (role_changed), and admin sessions, including one promoted
// mid-session, end at SESSION_ADMIN_ABSOLUTE_TIMEOUT while a plain user's
// session lives on.
func TestRolesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env("SESSION_ADMIN_ABSOLUTE_TIMEOUT", "5s"))
	cliIn(t, dir, "admin-pass-1\n", "user", "add", "bob", "--role", "admin", "--password-stdin")
	cliIn(t, dir, "carol-pass-1\n", "user", "add", "carol", "--password-stdin")
	bob, laptop, phone, carol := in.client(), in.client(), in.client(), in.client()
	expect(t, "bob (admin)", bob.login("bob", "admin-pass-1"), 200, "")
	expect(t, "alice on the laptop", laptop.login("alice", "correct-horse"), 200, "")
	expect(t, "alice on the phone", phone.login("alice", "correct-horse"), 200, "")
	expect(t, "carol (user)", carol.login("carol", "carol-pass-1"), 200, "")
	loggedIn := time.Now() // every admin deadline is at most 5s from here

	if out := cliIn(t, dir, "", "user", "role", "alice", "admin"); !strings.Contains(out, "2 live session(s)") {
		t.Fatalf("user role: got %q, want 2 live sessions flagged", out)
	}
	rotated := map[string]string{} // each client's Set-Cookie with its new token
	for name, c := range map[string]*client{"laptop": laptop, "phone": phone} {
		before := c.sid()
		r := c.get("/profile")
		expect(t, name+" after the role change", r, 200, "")
		rotated[name] = r.header.Get("Set-Cookie")
		if c.sid() == before {
			t.Fatalf("%s: the role change did not rotate the token", name)
		}
		stale := in.client()
		stale.setSID(before)
		expect(t, name+"'s token from before the change", stale.get("/profile"), 401, "")
	}
	expect(t, "alice is an admin now", laptop.get("/admin/users/carol/sessions"), 200, "")

	if ma := rotated["laptop"]; !strings.Contains(ma, "Max-Age=") {
		t.Fatalf("laptop cookie after the rotation: got %q, want a Max-Age", ma)
	}
	// The jars drop the cookies when their Max-Age (capped at the absolute
	// deadline) runs out; a client that keeps sending them must still be
	// refused by the server's own deadline, so send them by hand.
	sids := map[string]string{"bob": bob.sid(), "laptop": laptop.sid(), "phone": phone.sid()}
	time.Sleep(time.Until(loggedIn.Add(5*time.Second + 300*time.Millisecond)))
	for name, sid := range sids {
		late := in.client()
		late.setSID(sid)
		expect(t, name+" (admin) after the admin lifetime", late.get("/profile"), 401, `{"error":"Not authenticated"}`)
	}
	expect(t, "carol (user) lives on", carol.get("/profile"), 200, `{"userId":"user-1003","username":"carol"}`)
	in.stop()
	ev := in.events.String()
	if n := strings.Count(ev, `"event":"role_changed"`); n != 2 {
		t.Errorf("role_changed events: got %d, want 2 (one per session)", n)
	}
	if n := strings.Count(ev, `"event":"absolute_timeout"`); n != 3 {
		t.Errorf("absolute_timeout events: got %d, want 3 (bob, laptop, phone)", n)
	}
}

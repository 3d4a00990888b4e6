package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/browser"
)

// TestBrowserTwoTabs: signing out in one tab sends the other tab's next
// navigation to /login with the message (issue 15).
func TestBrowserTwoTabs(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env())
	b := browser.Start(t, browser.Options{})
	one, two := b.Main(), b.Tab()
	navigate(t, one, in.base+"/login")
	signIn(t, one, "alice", "correct-horse")
	waitPath(t, one, "/account")
	navigate(t, two, in.base+"/account")
	waitPath(t, two, "/account")

	click(t, one, `form[action="/logout"] button`)
	waitPath(t, one, "/login?reason=signed_out")
	click(t, two, `nav a[href="/account"]`)
	waitPath(t, two, "/login?reason=signed_out")
	if got := strings.TrimSpace(text(t, two, "#signin-reason")); got != "You signed out." {
		t.Fatalf("the other tab's sign-in page: got %q, want %q", got, "You signed out.")
	}
	noCSPViolations(t, b)
}

// TestBrowserSignOutOtherDevices: "Sign out all other devices" in a second
// browser context (another device) ends the first one's session, whose next
// navigation lands on /login saying why (issue 15).
func TestBrowserSignOutOtherDevices(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env())
	b := browser.Start(t, browser.Options{})
	first, second := b.Main(), b.Device()
	navigate(t, first, in.base+"/login")
	signIn(t, first, "alice", "correct-horse")
	waitPath(t, first, "/account")
	navigate(t, second, in.base+"/login")
	signIn(t, second, "alice", "correct-horse")
	waitPath(t, second, "/account")
	if n := eval[int](t, second, "document.querySelectorAll('table.devices tbody tr').length"); n != 2 {
		t.Fatalf("devices listed on the second device: got %d, want 2", n)
	}
	shot(t, second, "devices")

	click(t, second, `form[action="/sessions/revoke-others"] button`) // confirm() is accepted by the harness
	waitPath(t, second, "/account?done=others")
	if got := strings.TrimSpace(text(t, second, ".banner-ok")); got != "Your other devices were signed out." {
		t.Fatalf("notice after sign-out of the others: got %q", got)
	}
	if n := eval[int](t, second, "document.querySelectorAll('table.devices tbody tr').length"); n != 1 {
		t.Fatalf("devices listed after signing out the others: got %d, want 1", n)
	}
	click(t, first, `nav a[href="/account"]`)
	waitPath(t, first, "/login?reason=revoked")
	if got := strings.TrimSpace(text(t, first, "#signin-reason")); !strings.Contains(got, "ended from another device") {
		t.Fatalf("the first device's sign-in page: got %q, want the revoked message", got)
	}
	shot(t, first, "login-revoked")
	noCSPViolations(t, b)
}

// TestBrowserIdleTimeout: with SESSION_IDLE_TIMEOUT=2s, a page opened after
// the idle time lands on /login with the message (issue 15).
func TestBrowserIdleTimeout(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env("SESSION_IDLE_TIMEOUT", "2s"))
	b := browser.Start(t, browser.Options{})
	ctx := b.Main()
	navigate(t, ctx, in.base+"/login")
	signIn(t, ctx, "alice", "correct-horse")
	waitPath(t, ctx, "/account")
	time.Sleep(2500 * time.Millisecond)
	click(t, ctx, `nav a[href="/account"]`)
	waitPath(t, ctx, "/login?reason=idle")
	if got := strings.TrimSpace(text(t, ctx, "#signin-reason")); !strings.Contains(got, "period of inactivity") {
		t.Fatalf("sign-in page after the idle timeout: got %q, want the inactivity message", got)
	}
	shot(t, ctx, "login-idle")
	noCSPViolations(t, b)
}

// TestBrowserAdminPage: an admin sent to /login from /admin comes back to
// /admin after signing in, sees the users and their sessions, and disables
// one, whose browser is signed out (issue 15).
func TestBrowserAdminPage(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	dir := t.TempDir()
	cliIn(t, dir, "admin-password-1\n", "user", "add", "root", "--role", "admin", "--password-stdin")
	in := start(t, dir, env())
	b := browser.Start(t, browser.Options{})
	admin, user := b.Main(), b.Device()
	navigate(t, user, in.base+"/login")
	signIn(t, user, "alice", "correct-horse")
	waitPath(t, user, "/account")

	navigate(t, admin, in.base+"/admin")
	waitPath(t, admin, "/login?next=%2Fadmin")
	signIn(t, admin, "root", "admin-password-1")
	waitPath(t, admin, "/admin")
	if n := eval[int](t, admin, "document.querySelectorAll('section.user').length"); n != 2 {
		t.Fatalf("users on the admin page: got %d, want 2", n)
	}
	shot(t, admin, "admin")
	click(t, admin, `form[action="/admin/users/alice/disable"] button`)
	waitPath(t, admin, "/admin?done=disabled")
	click(t, user, `nav a[href="/account"]`)
	waitPath(t, user, "/login?reason=revoked")

	navigate(t, user, in.base+"/admin")
	waitPath(t, user, "/login?next=%2Fadmin&reason=revoked")

	// End every session (DELETE /admin/sessions, ASVS 7.4.5) from the
	// page's form: the admin's own session ends with everyone else's.
	click(t, admin, `form[action="/admin/sessions"] button`)
	waitPath(t, admin, "/login?reason=signed_out") // they ended their own session too
	noCSPViolations(t, b)
}

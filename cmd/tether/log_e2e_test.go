package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A full scenario through every kind of security event the server emits,
// then a scan of everything it printed (events on stdout, operational log on
// stderr): no token, cookie value, CSRF token, password or secret may
// appear (OWASP Session Management Cheat Sheet, "logging").
func TestSecurityLogCarriesNoSecrets(t *testing.T) {
	dir := t.TempDir()
	// The idle timeout must outlast the scenario's Argon2id work under -race
	// (B's session has to be alive for the password change to revoke it).
	// A tiny renewal interval lets the scenario replay a renewed cookie
	// (token_reuse, issue 11.3).
	in := start(t, dir, env("SESSION_IDLE_TIMEOUT", "4s", "SESSION_ABSOLUTE_TIMEOUT", "1h",
		"SESSION_RENEW_INTERVAL", "1500ms", "SESSION_RENEW_GRACE", "500ms"))
	var secrets []string
	keep := func(v ...string) {
		for _, s := range v {
			if s != "" {
				secrets = append(secrets, s)
				if i := strings.IndexByte(s, '.'); i > 0 {
					secrets = append(secrets, s[:i], s[i+1:]) // token and MAC halves
				}
			}
		}
	}
	a, b := in.client(), in.client()
	expect(t, "anonymous views", a.get("/views"), 200, "") // session_created
	keep(a.sid())
	expect(t, "failed login", a.login("alice", "wrong-horse-1"), 401, "") // login_failure
	expect(t, "login", a.do("POST", "/login", "application/json", `{"username":"alice","password":"correct-horse"}`, "User-Agent", "UA/1"), 200, "")
	keep(a.sid(), a.csrfToken()) // login_success, session_regenerated
	expect(t, "login B", b.login("alice", "correct-horse"), 200, "")
	keep(b.sid())
	expect(t, "csrf failure", a.do("POST", "/password", "application/json", `{}`, "X-CSRF-Token", "forged-token-value"), 403, "") // csrf_failure
	expect(t, "context change", a.do("GET", "/profile", "", "", "User-Agent", "UA/2"), 200, "")                                   // binding_mismatch
	expect(t, "bad reauth", a.post("/reauth", `{"password":"wrong-horse-2"}`, "User-Agent", "UA/2"), 401, "")                     // reauth_failure
	expect(t, "reauth", a.post("/reauth", `{"password":"correct-horse"}`, "User-Agent", "UA/2"), 200, "")                         // reauth_success
	keep(a.sid())
	expect(t, "password change", a.post("/password", `{"currentPassword":"correct-horse","newPassword":"battery-staple-3"}`, "User-Agent", "UA/2"), 200, "")
	keep(a.sid()) // password_changed, session_revoked
	tampered := in.client()
	tampered.setSID(a.sid() + "x")
	expect(t, "tampered cookie", tampered.get("/profile"), 401, "") // session_rejected
	idle := in.client()
	expect(t, "login for idle", idle.login("alice", "battery-staple-3"), 200, "")
	idleSID := idle.sid()
	keep(idleSID)
	owner := in.client()
	expect(t, "views before renewal", owner.get("/views"), 200, "")
	replaced := owner.sid()
	keep(replaced)
	time.Sleep(1600 * time.Millisecond)
	expect(t, "views after the interval", owner.get("/views"), 200, "") // renewed
	if owner.sid() == replaced {
		t.Fatalf("the cookie was not renewed after SESSION_RENEW_INTERVAL")
	}
	keep(owner.sid())
	time.Sleep(600 * time.Millisecond) // past the grace
	thief := in.client()
	thief.setSID(replaced)
	expect(t, "replayed cookie", thief.get("/profile"), 401, "") // token_reuse
	expect(t, "logout", a.do("POST", "/logout", "", "", "User-Agent", "UA/2"), 200, "")
	time.Sleep(4200 * time.Millisecond) // the jar drops the cookie; the server must reject it anyway
	stale := in.client()
	stale.setSID(idleSID)
	expect(t, "idle session", stale.get("/profile"), 401, "") // idle_timeout
	in.stop()

	secret, err := os.ReadFile(filepath.Join(dir, "session.secret"))
	if err != nil {
		t.Fatal(err)
	}
	keep(strings.TrimSpace(string(secret)), "correct-horse", "wrong-horse-1", "wrong-horse-2", "battery-staple-3", "forged-token-value")
	out := in.events.String() + in.stderr.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Fatalf("the server's output contains a secret (%d bytes, starting %.4q)", len(s), s)
		}
	}
	for _, e := range []string{"session_created", "login_failure", "login_success", "session_regenerated", "csrf_failure",
		"binding_mismatch", "reauth_failure", "reauth_success", "password_changed", "session_revoked", "session_rejected",
		"idle_timeout", "logout", "token_reuse"} {
		if !strings.Contains(in.events.String(), `"event":"`+e+`"`) {
			t.Errorf("no %s event in the scenario:\n%s", e, in.events)
		}
	}
	checkEventLines(t, in.events.String())
}

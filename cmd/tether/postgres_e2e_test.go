package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// With DATABASE_URL, every instance sees the same users: two servers with
// data directories of their own share Redis (sessions) and PostgreSQL
// (users). A user added by the CLI on a third machine logs in on both; a
// password changed over HTTP on A is the password on B; disabling the user
// from the CLI ends its sessions on both and refuses logins on both.
func TestInstancesSharePostgresUsers(t *testing.T) {
	db := pgtest.URL(t)
	getenv := redisEnv("redis://"+redistest.Start(t, redistest.Config{}).Addr, "DATABASE_URL", db)
	a := start(t, t.TempDir(), getenv)
	b := start(t, t.TempDir(), getenv)
	cliDir := t.TempDir() // the admin's machine: no local state shared with A or B
	cli := func(stdin string, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cliEnv := func(k string) string {
			if k == "DATA_DIR" {
				return cliDir
			}
			return getenv(k)
		}
		if err := run(context.Background(), args, cliEnv, strings.NewReader(stdin), &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("tether %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	cli("battery-staple\n", "user", "add", "bob", "--password-stdin")

	ca, cb := a.client(), b.client()
	expect(t, "bob logs in on A", ca.login("bob", "battery-staple"), 200, "")
	expect(t, "bob logs in on B", cb.login("bob", "battery-staple"), 200, "")
	expect(t, "bob's profile on B", cb.get("/profile"), 200, `{"userId":"user-1002","username":"bob"}`)
	expect(t, "alice (--demo on both) on B", b.client().login("alice", "correct-horse"), 200, "")

	expect(t, "password change on A", ca.post("/password", `{"currentPassword":"battery-staple","newPassword":"new-staple-22"}`), 200, `{"endedSessions":1,"ok":true}`)
	expect(t, "bob's other session (B) ended by the change on A", cb.get("/profile"), 401, "")
	expect(t, "old password on B", b.client().login("bob", "battery-staple"), 401, `{"error":"Invalid credentials"}`)
	expect(t, "new password on B", cb.login("bob", "new-staple-22"), 200, "")

	if out := cli("", "user", "disable", "bob"); !strings.Contains(out, "2 session(s) ended") {
		t.Fatalf("user disable: got %q, want 2 sessions ended", out)
	}
	expect(t, "A's session after disable", ca.get("/profile"), 401, "")
	expect(t, "B's session after disable", cb.get("/profile"), 401, "")
	expect(t, "login on A when disabled", a.client().login("bob", "new-staple-22"), 401, `{"error":"Invalid credentials"}`)
	expect(t, "login on B when disabled", b.client().login("bob", "new-staple-22"), 401, `{"error":"Invalid credentials"}`)
	if out := cli("", "user", "list"); !strings.Contains(out, "bob") || !strings.Contains(out, "alice") {
		t.Fatalf("user list from the admin's machine: %s", out)
	}
}

// Guards against DATABASE_URL's password reaching the output: serve with an
// unreachable PostgreSQL exits with a message naming host:port and what to
// check, not the password.
func TestPostgresUnreachableAtStart(t *testing.T) {
	port := redistest.FreePort(t)
	unreachableAtStart(t, "DATABASE_URL", fmt.Sprintf("postgres://tether:%s@127.0.0.1:%%d/tether?sslmode=disable", unreachablePassword), port,
		fmt.Sprintf("cannot reach PostgreSQL at 127.0.0.1:%d", port), "check that it runs")
}

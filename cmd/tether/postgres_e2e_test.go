package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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

// postgresEnv is the environment of a server that keeps sessions and users
// in PostgreSQL (a schema of the test's own) and uses no Redis.
func postgresEnv(t *testing.T, kv ...string) func(string) string {
	return env(append([]string{"SESSION_STORE", "postgres", "DATABASE_URL", pgtest.URL(t)}, kv...)...)
}

// Issue 12: the seed's walkthrough with SESSION_STORE=postgres.
func TestWalkthroughPostgres(t *testing.T) { walkthrough(t, postgresEnv(t)) }

// Two instances with SESSION_STORE=postgres and no Redis share sessions: a
// login on A is logged in on B, a counter driven through both is exact, and
// a logout on B ends the session on A.
func TestInstancesSharePostgresSessions(t *testing.T) {
	getenv := postgresEnv(t, "SESSION_SECRET", strings.Repeat("p", 64))
	a := start(t, t.TempDir(), getenv)
	b := start(t, t.TempDir(), getenv)
	ca := a.client()
	expect(t, "login on A", ca.login("alice", "correct-horse"), 200, "")
	cb := b.client()
	cb.setSID(ca.sid())
	expect(t, "profile on B with A's cookie", cb.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	for i := 1; i <= 4; i++ {
		c := []*client{ca, cb}[i%2]
		expect(t, fmt.Sprintf("view %d", i), c.get("/views"), 200, fmt.Sprintf(`{"views":%d}`, i))
	}
	expect(t, "logout on B", cb.do("POST", "/logout", "", ""), 200, `{"ok":true}`)
	expect(t, "profile on A after the logout on B", ca.get("/profile"), 401, `{"error":"Not authenticated"}`)
}

// Guards against DATABASE_URL's password reaching the output when the
// session store is PostgreSQL and the server does not answer at start.
func TestPostgresSessionsUnreachableAtStart(t *testing.T) {
	port := redistest.FreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb syncBuffer
	getenv := env("SESSION_STORE", "postgres", "DATABASE_URL",
		fmt.Sprintf("postgres://tether:%s@127.0.0.1:%d/tether?sslmode=disable", unreachablePassword, port))
	err := run(ctx, []string{"serve", "--port", "0", "--data-dir", t.TempDir()}, getenv, strings.NewReader(""), &out, &errb)
	want := fmt.Sprintf("cannot open the session store in PostgreSQL (SESSION_STORE=postgres, DATABASE_URL): open: connect: 127.0.0.1:%d", port)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "check that it runs") {
		t.Fatalf("serve with an unreachable PostgreSQL: got %v, want an error containing %q", err, want)
	}
	if pkgPrefix.MatchString(err.Error()) {
		t.Errorf("got %q, want one sentence without package prefixes", err)
	}
	if all := err.Error() + out.String() + errb.String(); strings.Contains(all, unreachablePassword) {
		t.Fatalf("the password of DATABASE_URL appears in the output: %q", all)
	}
}

// Guarantee 4 (DESIGN) with SESSION_STORE=postgres: when PostgreSQL goes
// away (every connection cut, nothing listening), requests with a session
// get 503 and /readyz fails, never a 500 or a logout; when it is back, the
// same cookie works again without a new login.
func TestPostgresSessionsOutage(t *testing.T) {
	proxy, dbURL := pgtest.StartProxy(t, pgtest.URL(t)+"&connect_timeout=2")
	in := start(t, t.TempDir(), env("SESSION_STORE", "postgres", "DATABASE_URL", dbURL))
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	expect(t, "views", c.get("/views"), 200, `{"views":1}`)

	proxy.Cut()
	for _, path := range []string{"/profile", "/views"} {
		began := time.Now()
		r := c.get(path)
		if r.status != 503 || r.body != `{"error":"Session store unavailable"}` {
			t.Fatalf("%s with PostgreSQL gone: got %d %s, want 503 {\"error\":\"Session store unavailable\"}", path, r.status, r.body)
		}
		if took := time.Since(began); took > 5*time.Second {
			t.Fatalf("%s with PostgreSQL gone: took %v, want an answer within the connect timeout", path, took)
		}
	}
	if r := c.get("/readyz"); r.status != 503 {
		t.Fatalf("/readyz with PostgreSQL gone: got %d, want 503", r.status)
	}

	proxy.Resume()
	expect(t, "profile once PostgreSQL is back, same cookie", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	expect(t, "the counter kept its value", c.get("/views"), 200, `{"views":2}`)
	expect(t, "ready again", c.get("/readyz"), 200, "")
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// runDoctor runs `tether doctor` in dir with the environment kv and, unless
// kv sets PORT, PORT=0 (the default 3000 may be taken on the test machine).
func runDoctor(t *testing.T, dir string, kv ...string) (string, error) {
	t.Helper()
	getenv := env(append([]string{"DATA_DIR", dir, "PORT", "0"}, kv...)...)
	var out bytes.Buffer
	err := run(context.Background(), []string{"doctor"}, getenv, strings.NewReader(""), &out, &bytes.Buffer{})
	return out.String(), err
}

// tmp is a fresh, existing DATA_DIR, closed to other users.
func tmp(t *testing.T) string {
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDoctor(t *testing.T) {
	const pw = "hunter2-doctor-pw"
	redis := redistest.Start(t, redistest.Config{})
	served := tmp(t)
	in := start(t, served, env())
	in.stop() // the database and the development secret exist now

	cases := []struct {
		name    string
		dir     func(t *testing.T) string
		kv      []string
		wantErr bool
		want    []string // substrings of the report
	}{
		{"fresh machine", func(t *testing.T) string { return filepath.Join(t.TempDir(), "data") }, nil, false, []string{
			"ok    session secret: none yet", "does not exist yet; created (mode 0700)", "warn  users: no database yet", "0 problem(s), 1 warning(s)"}},
		{"after a first start", func(t *testing.T) string { return served }, nil, false, []string{
			"session secret: from " + filepath.Join(served, "session.secret"), "ok    DATA_DIR " + served + ": mode -rwx------",
			"ok    session store: SQLite", "0 live session(s)", "ok    users: SQLite", "1 user(s), 0 admin(s), 0 disabled", "0 problem(s), 0 warning(s)"}},
		{"an empty database file", func(t *testing.T) string {
			d := tmp(t)
			if err := os.WriteFile(filepath.Join(d, "tether.db"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return d
		}, nil, false, []string{"ok    session store: SQLite", "has no tables yet; the server creates them at its first start", "0 problem(s), 0 warning(s)"}},
		{"a file that is not a database", func(t *testing.T) string {
			d := tmp(t)
			if err := os.WriteFile(filepath.Join(d, "tether.db"), bytes.Repeat([]byte("not sqlite "), 500), 0o600); err != nil {
				t.Fatal(err)
			}
			return d
		}, nil, true, []string{"FAIL  session store: SQLite ", "tether.db cannot be read: file is not a database (26)\n",
			"FAIL  users: SQLite ", "2 problem(s)"}},
		{"unreachable PostgreSQL", tmp, []string{"DATABASE_URL", fmt.Sprintf("postgres://u:%s@127.0.0.1:%d/db", pw, redistest.FreePort(t))}, true, []string{
			"FAIL  users: cannot reach PostgreSQL at 127.0.0.1:"}},
		{"production with a short secret", tmp, []string{"APP_ENV", "production", "SESSION_SECRET", "short-" + pw}, true, []string{
			"FAIL  session secret:", "SESSION_SECRET", "1 problem(s)"}},
		{"production with a hand-made secret", tmp, []string{"APP_ENV", "production", "SESSION_SECRET", strings.Repeat("ab", 32), "TRUST_PROXY", "1", "METRICS_ADDR", fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))}, false, []string{
			"warn  SESSION_SECRET has fewer than 8 different characters", "warn  TRUST_PROXY=1 is a hop count", "0 problem(s), 3 warning(s)"}},
		{"production with 32 hex digits (16 bytes)", tmp, []string{"APP_ENV", "production", "SESSION_SECRET", strings.Repeat("0123456789abcdef", 2)}, true, []string{
			"FAIL  session secret: SESSION_SECRET holds 16 bytes as hex (32 digits); at least 32 random bytes are needed", "1 problem(s)"}},
		{"secret counted in random bytes", tmp, []string{"SESSION_SECRET", strings.Repeat("0123456789abcdef", 4), "SESSION_SECRET_PREVIOUS", base64.StdEncoding.EncodeToString(make([]byte, 40))}, false, []string{
			"ok    session secret: from SESSION_SECRET, 32 bytes as hex (64 digits); 1 previous secret(s) still verify"}},
		{"passphrase secret", tmp, []string{"SESSION_SECRET", "correct horse battery staple " + pw}, false, []string{
			"warn  session secret: SESSION_SECRET is a passphrase of 46 characters, not hex or base64", "ok    session secret: from SESSION_SECRET, a passphrase of 46 characters"}},
		// issue 11 row 8: a hop count believes any peer; doctor says so and
		// recommends the proxies' networks, in development too.
		{"hop-count TRUST_PROXY", tmp, []string{"TRUST_PROXY", "2"}, false, []string{
			"warn  TRUST_PROXY=2 is a hop count: the immediate peer is believed whoever it is", "set TRUST_PROXY to the proxies' addresses or CIDRs instead (e.g. 10.0.0.0/8", "0 problem(s), 2 warning(s)"}},
		{"TRUST_PROXY as networks", tmp, []string{"TRUST_PROXY", "10.0.0.0/8, fd00::/8"}, false, []string{
			"warn  users: no database yet", "0 problem(s), 1 warning(s)"}},
		{"production defaults", tmp, []string{"APP_ENV", "production", "SESSION_SECRET", strings.Repeat("0123456789abcdef", 4)}, false, []string{
			"warn  production without TRUST_PROXY", "warn  production with /metrics on the main listener"}},
		{"unreachable Redis", tmp, []string{"REDIS_URL", fmt.Sprintf("redis://u:%s@127.0.0.1:%d", pw, redistest.FreePort(t))}, true, []string{
			"FAIL  session store: cannot reach Redis at 127.0.0.1:", "1 problem(s)"}},
		{"Redis and PostgreSQL", tmp, []string{"REDIS_URL", "redis://" + redis.Addr, "DATABASE_URL", pgtest.URL(t)}, false, []string{
			"ok    session store: Redis at " + redis.Addr + " answers", "client-side cache on (REDIS_CLIENT_CACHE=on", "ok    users: PostgreSQL (DATABASE_URL) has no tables yet"}},
		{"Redis with REDIS_CLIENT_CACHE=off", tmp, []string{"REDIS_URL", "redis://" + redis.Addr, "REDIS_CLIENT_CACHE", "off"}, false, []string{
			"ok    session store: Redis at " + redis.Addr + " answers", "client-side cache off (REDIS_CLIENT_CACHE=off"}},
		{"invalid configuration", tmp, []string{"SESSION_IDLE_TIMEOUT", "soon"}, true, []string{"FAIL  configuration: SESSION_IDLE_TIMEOUT"}},
		{"users shared but sessions not", tmp, []string{"DATABASE_URL", pgtest.URL(t)}, false, []string{
			"warn  users are shared through DATABASE_URL but sessions stay in this instance's SQLite file"}},
		{"sessions in PostgreSQL", tmp, []string{"SESSION_STORE", "postgres", "DATABASE_URL", pgtest.URL(t)}, false, []string{
			"ok    session store: PostgreSQL (DATABASE_URL) has no tables yet", "0 problem(s), 0 warning(s)"}},
		{"sessions in unreachable PostgreSQL", tmp, []string{"SESSION_STORE", "postgres", "DATABASE_URL", fmt.Sprintf("postgres://u:%s@127.0.0.1:%d/db", pw, redistest.FreePort(t))}, true, []string{
			"FAIL  session store: PostgreSQL (DATABASE_URL): inspect: connect: 127.0.0.1:", "check that it runs", "2 problem(s)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			_, statErr := os.Stat(dir)
			before := snapshot(t, dir)
			out, err := runDoctor(t, dir, tc.kv...)
			if after := snapshot(t, dir); after != before {
				t.Errorf("doctor changed DATA_DIR; it must change nothing:\nbefore %s\nafter  %s", before, after)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v; report:\n%s", err, tc.wantErr, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			for _, line := range strings.Split(out, "\n") { // "FAIL  users: DETAIL": no prefix in DETAIL
				if _, detail, ok := strings.Cut(line, ": "); ok && pkgPrefix.MatchString(detail) {
					t.Errorf("report line %q: want no package prefix after its label", line)
				}
			}
			if strings.Contains(out, pw) || (err != nil && strings.Contains(err.Error(), pw)) {
				t.Fatalf("the report shows a password or secret:\n%s", out)
			}
			if os.IsNotExist(statErr) {
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("doctor created DATA_DIR %s; it must change nothing", dir)
				}
			}
		})
	}
}

// snapshot lists dir's files with their sizes and modification times,
// leaving out SQLite's -wal and -shm files: a read-only connection to a WAL
// database whose server is stopped creates them (an empty log and the 32 KiB
// shared-memory index) and leaves them behind; the database file itself, the
// one that holds data, must not change.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "-wal") || strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d:%d ", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// doctor reads PostgreSQL in a read-only transaction: a fresh database
// stays without tables.
func TestDoctorLeavesPostgresAlone(t *testing.T) {
	url := pgtest.URL(t)
	out, err := runDoctor(t, tmp(t), "DATABASE_URL", url)
	if err != nil || !strings.Contains(out, "has no tables yet") {
		t.Fatalf("got %v:\n%s", err, out)
	}
	out, _ = runDoctor(t, tmp(t), "DATABASE_URL", url)
	if !strings.Contains(out, "has no tables yet") {
		t.Fatalf("after doctor ran, got:\n%s\nwant still no tables", out)
	}
}

func TestDoctorOpenDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runDoctor(t, dir)
	if err != nil || !strings.Contains(out, "warn  DATA_DIR "+dir+" is open to other users (mode -rwxr-xr-x)") {
		t.Fatalf("got %v:\n%s", err, out)
	}
}

func TestInsecureTransport(t *testing.T) {
	cases := []struct {
		url      string
		redis    bool
		insecure bool
	}{
		{"redis://redis.internal:6379", true, true},
		{"rediss://redis.internal:6380", true, false},
		{"redis://127.0.0.1:6379", true, false},
		{"redis://localhost:6379", true, false},
		{"redis://[::1]:6379", true, false},
		{"postgres://db.internal/app", false, true},
		{"postgres://db.internal/app?sslmode=require", false, true},
		{"postgres://db.internal/app?sslmode=verify-full", false, false},
		{"postgres://127.0.0.1/app?sslmode=disable", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			got := insecurePG(tc.url)
			if tc.redis {
				got = insecureRemote(tc.url, "redis")
			}
			if got != tc.insecure {
				t.Fatalf("got %v, want %v", got, tc.insecure)
			}
		})
	}
}

// doctor checks that serve could listen: a port held by another listener is
// a FAIL naming the address and what to do; a free one is ok; PORT=0 always
// works. The same goes for METRICS_ADDR.
func TestDoctorPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	heldPort := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)
	free := strconv.Itoa(redistest.FreePort(t))
	cases := []struct {
		name    string
		kv      []string
		wantErr bool
		want    string
	}{
		{"taken", []string{"PORT", heldPort}, true,
			"FAIL  port: 127.0.0.1:" + heldPort + " is already in use (another tether or another program listens there): stop it, or set PORT (or serve --port) to a free one"},
		{"free", []string{"PORT", free}, false, "ok    port: 127.0.0.1:" + free + " is free"},
		{"zero", []string{"PORT", "0"}, false, "ok    port: PORT=0, a free port is picked at start"},
		{"metrics taken", []string{"PORT", free, "METRICS_ADDR", "127.0.0.1:" + heldPort}, true,
			"FAIL  METRICS_ADDR: 127.0.0.1:" + heldPort + " is already in use (another tether or another program listens there): stop it, or set METRICS_ADDR to a free host:port"},
		{"host not on this machine", []string{"PORT", free, "HOST", "192.0.2.1"}, true,
			"FAIL  port: 192.0.2.1:" + free + " is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDoctor(t, tmp(t), tc.kv...)
			if (err != nil) != tc.wantErr || !strings.Contains(out, tc.want+"\n") {
				t.Fatalf("got %v and the report\n%s\nwant error %v and the line %q", err, out, tc.wantErr, tc.want)
			}
		})
	}
	// The port is free again: doctor released it.
	out, err := runDoctor(t, tmp(t), "PORT", free)
	if err != nil || !strings.Contains(out, "is free") {
		t.Fatalf("second run: got %v\n%s", err, out)
	}
}

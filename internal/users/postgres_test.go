package users

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/passwords"
)

// TestPostgresOpenErrors guards against leaking DATABASE_URL's password
// into errors (which end up in logs) and checks that each error says what
// to check.
func TestPostgresOpenErrors(t *testing.T) {
	const secret = "hunter2-Secret"
	// A loopback port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cases := []struct {
		name, url string
		want      []string
	}{
		{"unreachable", fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/tether?sslmode=disable&connect_timeout=2", secret, port),
			[]string{fmt.Sprintf("127.0.0.1:%d", port), "DATABASE_URL", "check"}},
		{"not a URL", "postgres://app:" + secret + "@127.0.0.1:notaport/db", []string{"DATABASE_URL", "not a valid"}},
		{"unknown sslmode", "postgres://app:" + secret + "@127.0.0.1/db?sslmode=" + secret, []string{"DATABASE_URL", "not a valid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := OpenPostgres(ctx, tc.url, passwords.NewHasherWith(fast, 1))
			if err == nil {
				d.Close()
				t.Fatal("got nil error, want a failure")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q contains the URL's password", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q: want it to mention %q", msg, w)
				}
			}
		})
	}
	// A wrong password on a reachable server: the error names the server,
	// not the password.
	t.Run("bad credentials", func(t *testing.T) {
		u, err := url.Parse(pgtest.ServerURL(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("no_such_role_x", secret)
		d, err := OpenPostgres(context.Background(), u.String(), nil)
		if err == nil {
			d.Close()
			t.Fatal("got nil error for an unknown role, want a failure")
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), u.Host) {
			t.Fatalf("error %q: want the server %s named and no password", err, u.Host)
		}
		t.Logf("error: %v", err)
	})
}

// TestPostgresInstancesShareUsers starts several directories at once on one
// database, as several server instances would: the migration runs exactly
// once (under the advisory lock) and a user added through one instance logs
// in through every other.
func TestPostgresInstancesShareUsers(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	const n = 4
	dirs := make([]*Postgres, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = OpenPostgres(ctx, dbURL, passwords.NewHasherWith(fast, 1))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { dirs[i].Close() })
	}
	var versions int
	want := latest(pgMigrations, "pgmigrations") // each migration once
	if err := dirs[0].pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+schemaTable).Scan(&versions); err != nil || versions != want {
		t.Fatalf("schema versions after %d concurrent opens: got %d %v, want %d", n, versions, err, want)
	}
	mustAdd(t, dirs[1], "alice", "correct-horse", RoleUser)
	for i, d := range dirs {
		if u, err := d.Authenticate(ctx, "Alice", "correct-horse"); err != nil || u.ID != "user-1001" {
			t.Fatalf("instance %d: got %+v %v, want alice (user-1001)", i, u, err)
		}
	}
	if err := dirs[2].SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := dirs[3].Authenticate(ctx, "alice", "correct-horse"); err != ErrInvalidCredentials {
		t.Fatalf("disabled through another instance: got %v, want ErrInvalidCredentials", err)
	}
	if err := dirs[0].Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

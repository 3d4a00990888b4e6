package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

const secret = "hunter2-Secret-pw"

// closedPort returns a loopback port with nothing listening.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// Open and Inspect of an unreachable server fail with ErrStoreUnavailable,
// name the server, and never show the URL's password.
func TestOpenUnreachable(t *testing.T) {
	port := closedPort(t)
	u := fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/tether?sslmode=disable&connect_timeout=2", secret, port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, openErr := pgstore.Open(ctx, u, pgstore.Options{})
	_, inspectErr := pgstore.Inspect(ctx, u)
	for name, err := range map[string]error{"Open": openErr, "Inspect": inspectErr} {
		t.Run(name, func(t *testing.T) {
			if !errors.Is(err, tether.ErrStoreUnavailable) {
				t.Fatalf("got %v, want an error wrapping ErrStoreUnavailable", err)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || !strings.Contains(msg, fmt.Sprintf("127.0.0.1:%d", port)) || !strings.HasPrefix(msg, "pgstore: ") {
				t.Fatalf("got %q, want a pgstore error naming 127.0.0.1:%d and not the password", msg, port)
			}
		})
	}
}

// A malformed URL is refused without quoting it.
func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"postgres://app:" + secret + "@127.0.0.1:notaport/db", "postgres://app:" + secret + "@127.0.0.1/db?sslmode=" + secret} {
		_, err := pgstore.Open(context.Background(), u, pgstore.Options{})
		if err == nil || strings.Contains(err.Error(), secret) || errors.Is(err, tether.ErrStoreUnavailable) {
			t.Errorf("Open of a malformed URL: got %v, want a refusal that quotes nothing and is not ErrStoreUnavailable", err)
		}
	}
	// A wrong password on a reachable server: the error names the server,
	// not the password.
	su, err := url.Parse(pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	su.User = url.UserPassword("no_such_role_x", secret)
	_, err = pgstore.Open(context.Background(), su.String(), pgstore.Options{})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), su.Host) {
		t.Fatalf("Open with an unknown role: got %v, want an error naming %s and not the password", err, su.Host)
	}
}

// calls runs every operation of s with ctx and returns the errors.
func calls(ctx context.Context, s *pgstore.Store, key string) map[string]error {
	now := time.Now()
	_, load := s.Load(ctx, key, now, now.Add(time.Minute))
	_, update := s.Update(ctx, key, now, &tether.Patch{Incr: map[string]int64{"n": 1}})
	_, read := s.Update(ctx, key, now, &tether.Patch{})
	_, list := s.ListUser(ctx, "user-1001", now)
	_, delUser := s.DeleteUser(ctx, "user-1001")
	_, sweep := s.Sweep(ctx)
	return map[string]error{
		"Create":     s.Create(ctx, key+"-new", record("user-1001", time.Hour)),
		"Load":       load,
		"Update":     update,
		"Update{}":   read,
		"Delete":     s.Delete(ctx, key),
		"ListUser":   list,
		"DeleteUser": delUser,
		"Sweep":      sweep,
		"Ping":       s.Ping(ctx),
	}
}

const leakyKey = "0123456789abcdef-key-that-must-not-leak"

// checkUnavailable fails unless every error wraps ErrStoreUnavailable (a
// 503, never ErrNotFound, which would log everyone out) and none contains
// the key.
func checkUnavailable(t *testing.T, what string, errs map[string]error) {
	t.Helper()
	for op, err := range errs {
		if !errors.Is(err, tether.ErrStoreUnavailable) || !strings.HasPrefix(fmt.Sprint(err), "pgstore: ") {
			t.Errorf("%s %s: got %v, want a pgstore error wrapping ErrStoreUnavailable", op, what, err)
		} else if strings.Contains(err.Error(), leakyKey) {
			t.Errorf("%s %s: error %q contains the key", op, what, err)
		}
	}
}

// The server going away (every connection cut, nothing listening) makes
// every operation fail with ErrStoreUnavailable; when it is back, the store
// recovers by itself with nothing lost.
func TestServerGoneAndBack(t *testing.T) {
	p, u := pgtest.StartProxy(t, pgtest.URL(t)+"&connect_timeout=2")
	s := open(t, u, pgstore.Options{SweepInterval: -1})
	ctx := context.Background()
	if err := s.Create(ctx, leakyKey, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	checkUnavailable(t, "with the server gone", calls(tctx, s, leakyKey))

	p.Resume()
	got, err := s.Load(ctx, leakyKey, time.Now(), time.Now().Add(time.Hour))
	if err != nil || string(got.Values["views"]) != "3" {
		t.Fatalf("Load once the server is back: got %v (%v), want the record with views 3", got, err)
	}
}

// A backend terminated under the store (an administrator, a failover, an
// idle-session timeout) is reported as unavailable, never as a missing
// session, and the next call works on a new connection.
func TestBackendTerminated(t *testing.T) {
	su, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := su.Query()
	q.Set("application_name", "pgstore-terminated-test")
	su.RawQuery = q.Encode()
	s := open(t, su.String(), pgstore.Options{SweepInterval: -1})
	ctx := context.Background()
	if err := s.Create(ctx, leakyKey, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	ops := []struct {
		name string
		call func() error
	}{
		{"Load", func() error {
			_, err := s.Load(ctx, leakyKey, time.Now(), time.Now().Add(time.Hour))
			return err
		}},
		{"Update", func() error {
			_, err := s.Update(ctx, leakyKey, time.Now(), &tether.Patch{Incr: map[string]int64{"views": 1}})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			var n int
			if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = 'pgstore-terminated-test'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("terminated no backend of the store; the test would prove nothing")
			}
			err := op.call()
			if err != nil && (!errors.Is(err, tether.ErrStoreUnavailable) || strings.Contains(err.Error(), leakyKey)) {
				t.Fatalf("first call after the backend was terminated: got %v, want nil or ErrStoreUnavailable without the key", err)
			}
			t.Logf("first call after termination: %v", err)
			if err := op.call(); err != nil {
				t.Fatalf("second call: got %v, want nil (a new connection)", err)
			}
		})
	}
}

// A closed Store answers ErrStoreUnavailable, never ErrNotFound (which
// would log everyone out); Close may be called again.
func TestClosedStore(t *testing.T) {
	s, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), leakyKey, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close %d: got %v, want nil", i+1, err)
		}
	}
	checkUnavailable(t, "on a closed Store", calls(context.Background(), s, leakyKey))
}

// A done context means the store could not answer in time: 503, and
// nothing changed.
func TestContextDone(t *testing.T) {
	s := open(t, pgtest.URL(t), pgstore.Options{SweepInterval: -1})
	if err := s.Create(context.Background(), leakyKey, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := calls(ctx, s, leakyKey)
	checkUnavailable(t, "with a canceled context", errs)
	for op, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want it to wrap context.Canceled", op, err)
		}
	}
	got, err := s.Load(context.Background(), leakyKey, time.Now(), time.Now().Add(time.Hour))
	if err != nil || string(got.Values["views"]) != "3" {
		t.Fatalf("Load after the canceled calls: got %v (%v), want views 3", got, err)
	}
}

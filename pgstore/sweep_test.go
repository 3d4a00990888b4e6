package pgstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// countRows counts the rows of tether_sessions under key, read directly.
func countRows(t *testing.T, conn *pgx.Conn, key string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM tether_sessions WHERE key = $1`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Sweep deletes every expired row, across several batches, and nothing else;
// while another instance holds the sweep lock it deletes nothing.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	s := open(t, u, pgstore.Options{SweepInterval: -1})
	// 1234 expired rows, half by the idle deadline and half by the
	// absolute one (the idle deadline is capped to it), written directly.
	const expired = 1234
	other := connect(t, u)
	if _, err := other.Exec(ctx, `INSERT INTO tether_sessions
		(key, vals, created_at, authenticated_at, idle_deadline, absolute_deadline)
		SELECT 'expired-' || i, '{}', $1::bigint, 0, $1::bigint + i, CASE WHEN i % 2 = 0 THEN $1::bigint + i ELSE $1::bigint + 3600000 END
		FROM generate_series(1, $2::int) AS i`, time.Now().Add(-time.Hour).UnixMilli(), expired); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "live", record("", time.Hour)); err != nil {
		t.Fatal(err)
	}

	// Another instance (a connection in the same schema) holds the lock.
	var locked bool
	if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock(x'7e7e0003'::int, hashtext(current_schema()))`).Scan(&locked); err != nil || !locked {
		t.Fatalf("taking the sweep lock from another connection: got %v %v, want it taken", locked, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep while another instance sweeps: got (%d, %v), want (0, nil)", n, err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock(x'7e7e0003'::int, hashtext(current_schema()))`); err != nil {
		t.Fatal(err)
	}

	if n, err := s.Sweep(ctx); err != nil || n != expired {
		t.Fatalf("Sweep: got (%d, %v), want (%d, nil)", n, err, expired)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep: got (%d, %v), want (0, nil)", n, err)
	}
	if _, err := s.Load(ctx, "live", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("live row after Sweep: got %v, want nil", err)
	}
	// Sweep released its lock: another instance can take it now.
	if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock(x'7e7e0003'::int, hashtext(current_schema()))`).Scan(&locked); err != nil || !locked {
		t.Fatalf("sweep lock after Sweep returned: got taken=%v (%v), want it free", !locked, err)
	}
}

// Sweep skips a row that a request holds locked instead of waiting for it.
func TestSweepSkipsLockedRows(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	s := open(t, u, pgstore.Options{SweepInterval: -1})
	for _, k := range []string{"a", "b"} {
		if err := s.Create(ctx, k, record("", -time.Second)); err != nil { // expired
			t.Fatal(err)
		}
	}
	other := connect(t, u)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM tether_sessions WHERE key = 'a' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n, err := s.Sweep(sctx); err != nil || n != 1 {
		t.Fatalf("Sweep with row a locked: got (%d, %v), want (1, nil) without waiting", n, err)
	}
	tx.Rollback(ctx)
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep once the lock is gone: got (%d, %v), want (1, nil)", n, err)
	}
}

// The sweeper deletes expired rows, keeps live ones, and stops on Close.
func TestSweeper(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	conn := connect(t, u)
	baseline := runtime.NumGoroutine()

	s, err := pgstore.Open(ctx, u, pgstore.Options{SweepInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Create(ctx, "short", record("user-1001", 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "long", record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); countRows(t, conn, "short") != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("expired row: still present after 5 s of 10 ms sweeps, want it deleted")
		}
	}
	if n := countRows(t, conn, "long"); n != 1 {
		t.Fatalf("live row after sweeps: got %d rows, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); n > baseline && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if n > baseline {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines after Close: got %d, want at most %d (sweeper or pool leaked)\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

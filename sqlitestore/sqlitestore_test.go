package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
	"github.com/tetherhq/tether/storetest"
)

// open opens a Store on path and closes it when the test ends.
func open(t testing.TB, path string, opts sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqlDB opens a plain *sql.DB on path with DSN, to look at the file directly.
func sqlDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tether.Store {
		return open(t, filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{})
	})
}

// New on a caller's pool, which has no limit on connections.
func TestConformanceNew(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tether.Store {
		s, err := sqlitestore.New(sqlDB(t, filepath.Join(t.TempDir(), "tether.db")), sqlitestore.Options{})
		if err != nil {
			t.Fatalf("New: got %v, want nil", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func record(user string, idle time.Duration) *tether.Record {
	now := time.Now().Truncate(time.Millisecond)
	return &tether.Record{
		Values:           map[string]json.RawMessage{"views": json.RawMessage("3")},
		UserID:           user,
		CreatedAt:        now,
		AuthenticatedAt:  now,
		IdleDeadline:     now.Add(idle),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	}
}

// Sessions survive a restart: Close, then Open the same file.
func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tether.db")
	s := open(t, path, sqlitestore.Options{})
	rec := record("user-1001", 30*time.Minute)
	if err := s.Create(ctx, "k", rec); err != nil {
		t.Fatal(err)
	}
	want, err := s.Update(ctx, "k", time.Now(), &tether.Patch{Incr: map[string]int64{"views": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}

	s = open(t, path, sqlitestore.Options{})
	got, err := s.Load(ctx, "k", time.Now(), rec.IdleDeadline)
	if err != nil {
		t.Fatalf("Load after reopening: got %v, want nil", err)
	}
	if got.UserID != want.UserID || string(got.Values["views"]) != "4" ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.AbsoluteDeadline.Equal(want.AbsoluteDeadline) {
		t.Fatalf("after reopening: got %+v, want %+v", got, want)
	}
	if list, err := s.ListUser(ctx, "user-1001", time.Now()); err != nil || len(list) != 1 {
		t.Fatalf("ListUser after reopening: got %d sessions (%v), want 1", len(list), err)
	}
}

// Reopening an up-to-date file applies nothing; the schema is as expected.
func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	for i := range 3 {
		if err := open(t, path, sqlitestore.Options{}).Close(); err != nil {
			t.Fatalf("open %d: Close: got %v, want nil", i+1, err)
		}
	}
	db := sqlDB(t, path)
	rows, err := db.Query(`SELECT version FROM tether_sessions_schema ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		t.Fatal("schema versions after three opens: got none, want 1…n")
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("schema versions after three opens: got %v, want 1…%d once each", versions, len(versions))
		}
	}
	for _, name := range []string{"tether_sessions", "tether_sessions_user", "tether_sessions_expiry"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = ?`, name).Scan(&n); err != nil || n != 1 {
			t.Errorf("schema object %s: got %d (%v), want 1", name, n, err)
		}
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q (%v), want wal", mode, err)
	}
}

// A file migrated by a newer program is refused, by Open and by New.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	open(t, path, sqlitestore.Options{}).Close()
	db := sqlDB(t, path)
	if _, err := db.Exec(`INSERT INTO tether_sessions_schema (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, sqlitestore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("Open of a newer schema: got %v, want ErrNewerSchema naming version 99", err)
	}
	if _, err := sqlitestore.New(db, sqlitestore.Options{}); !errors.Is(err, sqlitestore.ErrNewerSchema) {
		t.Fatalf("New on a newer schema: got %v, want ErrNewerSchema", err)
	}
}

// countRows counts the rows of tether_sessions under key, read directly.
func countRows(t *testing.T, db *sql.DB, key string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tether_sessions WHERE key = ?`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The sweeper deletes expired rows, keeps live ones, and stops on Close.
func TestSweeper(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tether.db")
	db := sqlDB(t, path)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()

	s, err := sqlitestore.Open(path, sqlitestore.Options{SweepInterval: 10 * time.Millisecond})
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
	if n := countRows(t, db, "short"); n != 1 {
		t.Fatalf("rows under the short key before it expired: got %d, want 1", n)
	}
	for deadline := time.Now().Add(5 * time.Second); countRows(t, db, "short") != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("expired row: still present after 5 s of 10 ms sweeps, want it deleted")
		}
	}
	if n := countRows(t, db, "long"); n != 1 {
		t.Fatalf("live row after sweeps: got %d rows, want 1", n)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > baseline && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if n > baseline {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines a second after Close: got %d, want at most %d (sweeper or pool leaked)\n%s",
			n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// Sweep deletes every expired row, across several batches, and nothing else.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{SweepInterval: -1})
	base := time.Now().Add(-time.Hour)
	const expired = 1234
	for i := range expired {
		rec := &tether.Record{CreatedAt: base, IdleDeadline: base.Add(time.Duration(i) * time.Millisecond), AbsoluteDeadline: base.Add(time.Hour)}
		if i%2 == 0 { // passed by the absolute deadline (the idle one is capped to it)
			rec.IdleDeadline, rec.AbsoluteDeadline = base.Add(2*time.Hour), base.Add(time.Duration(i)*time.Millisecond)
		}
		if err := s.Create(ctx, "expired-"+time.Duration(i).String(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, "live", record("", time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx)
	if err != nil || n != expired {
		t.Fatalf("Sweep: got (%d, %v), want (%d, nil)", n, err, expired)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep: got (%d, %v), want (0, nil)", n, err)
	}
	if _, err := s.Load(ctx, "live", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("live row after Sweep: got %v, want nil", err)
	}
}

// Two Stores on one file (two processes, or the server and the CLI) never
// lose each other's increments: BEGIN IMMEDIATE and the busy timeout order
// their writers.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tether.db")
	a, b := open(t, path, sqlitestore.Options{}), open(t, path, sqlitestore.Options{})
	if err := a.Create(ctx, "k", record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	const each = 100
	var wg sync.WaitGroup
	errc := make(chan error, 2*each)
	for _, s := range []*sqlitestore.Store{a, b} {
		for range each {
			wg.Go(func() {
				_, err := s.Update(ctx, "k", time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}})
				errc <- err
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("Update through two Stores: got %v, want nil", err)
		}
	}
	got, err := b.Load(ctx, "k", time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Values["n"]) != "200" {
		t.Fatalf("counter after 2×%d increments through two Stores: got %s, want 200", each, got.Values["n"])
	}
}

// unavailableCalls runs every operation of s with ctx and returns the errors.
func unavailableCalls(ctx context.Context, s *sqlitestore.Store, key string) map[string]error {
	now := time.Now()
	_, load := s.Load(ctx, key, now, now.Add(time.Minute))
	_, update := s.Update(ctx, key, now, &tether.Patch{Incr: map[string]int64{"n": 1}})
	_, list := s.ListUser(ctx, "user-1001", now)
	_, delUser := s.DeleteUser(ctx, "user-1001")
	_, sweep := s.Sweep(ctx)
	return map[string]error{
		"Create":     s.Create(ctx, key, record("user-1001", time.Hour)),
		"Load":       load,
		"Update":     update,
		"Delete":     s.Delete(ctx, key),
		"ListUser":   list,
		"DeleteUser": delUser,
		"Sweep":      sweep,
		"Ping":       s.Ping(ctx),
	}
}

// A closed Store answers ErrStoreUnavailable, never ErrNotFound (which would
// log everyone out), and its errors do not contain the key.
func TestClosedStore(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "0123456789abcdef-key-that-must-not-leak"
	if err := s.Create(context.Background(), key, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close %d: got %v, want nil", i+1, err)
		}
	}
	for op, err := range unavailableCalls(context.Background(), s, key) {
		if !errors.Is(err, tether.ErrStoreUnavailable) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
			t.Errorf("%s on a closed Store: got %v, want an sqlitestore error wrapping ErrStoreUnavailable", op, err)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("%s on a closed Store: error %q contains the key", op, err)
		}
	}
}

// A done context means the store could not answer in time.
func TestContextDone(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{})
	const key = "0123456789abcdef-key-that-must-not-leak"
	if err := s.Create(context.Background(), key, record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, err := range unavailableCalls(ctx, s, key) {
		if !errors.Is(err, tether.ErrStoreUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want ErrStoreUnavailable and context.Canceled", op, err)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("%s with a canceled context: error %q contains the key", op, err)
		}
	}
	// Nothing was changed, and the Store still works.
	got, err := s.Load(context.Background(), key, time.Now(), time.Now().Add(time.Hour))
	if err != nil || string(got.Values["views"]) != "3" {
		t.Fatalf("Load after the canceled calls: got %v (%v), want views 3", got, err)
	}
}

// A context that expires while another connection holds the write lock
// ends the wait: the request fails as unavailable, not after 5 s.
func TestContextDeadlineWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	s := open(t, path, sqlitestore.Options{})
	ctx := context.Background()
	if err := s.Create(ctx, "k", record("", time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Hold SQLite's write lock from another connection; the Store's Update
	// waits for it inside the busy timeout until its context expires.
	db := sqlDB(t, path)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Update(short, "k", time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}})
	if !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Update while another connection holds the lock: got %v, want ErrStoreUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Update gave up after %v, want about the context's 100ms", d)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "k", time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}}); err != nil {
		t.Fatalf("Update after the lock was released: got %v, want nil", err)
	}
}

func TestNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tether.db")
	t.Run("busy timeout required", func(t *testing.T) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if s, err := sqlitestore.New(db, sqlitestore.Options{}); err == nil || !strings.Contains(err.Error(), "busy_timeout") {
			if s != nil {
				s.Close()
			}
			t.Fatalf("New on a pool without busy_timeout: got %v, want an error naming busy_timeout", err)
		}
	})
	t.Run("Close leaves the pool open", func(t *testing.T) {
		db := sqlDB(t, path)
		s, err := sqlitestore.New(db, sqlitestore.Options{})
		if err != nil {
			t.Fatalf("New: got %v, want nil", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: got %v, want nil", err)
		}
		if err := db.Ping(); err != nil {
			t.Fatalf("caller's pool after Close: got %v, want it open", err)
		}
	})
	t.Run("nil", func(t *testing.T) {
		if _, err := sqlitestore.New(nil, sqlitestore.Options{}); err == nil {
			t.Fatal("New(nil): got nil error, want one")
		}
	})
}

func TestOpenRejects(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := sqlitestore.Open(path, sqlitestore.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q): got nil error, want a refusal", path)
		}
	}
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "tether.db")
	if s, err := sqlitestore.Open(missing, sqlitestore.Options{}); err == nil || !strings.HasPrefix(err.Error(), "sqlitestore: open: ") {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open in a missing directory: got %v, want an sqlitestore: open: error", err)
	}
}

// Characters that mean something in a URI are escaped: the file is created
// under exactly the name given.
func TestDSNEscapesPath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?b.db", "c#d.db", "e%41f.db", "g h.db", "i&_pragma=query_only(1).db"} {
		path := filepath.Join(dir, name)
		s := open(t, path, sqlitestore.Options{})
		if err := s.Create(context.Background(), "k", record("", time.Hour)); err != nil {
			t.Errorf("%q: Create: got %v, want nil", name, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%q: database file: got %v, want it created under that name", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".db") && !strings.HasSuffix(e.Name(), "-wal") && !strings.HasSuffix(e.Name(), "-shm") {
			t.Errorf("unexpected file %q in the directory: a path was misread", e.Name())
		}
	}
}

func benchStore(b *testing.B) (*sqlitestore.Store, string) {
	s := open(b, filepath.Join(b.TempDir(), "tether.db"), sqlitestore.Options{})
	const key = "bench"
	rec := record("user-1001", time.Hour)
	rec.Values["cart"] = json.RawMessage(`{"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}]}`)
	if err := s.Create(context.Background(), key, rec); err != nil {
		b.Fatal(err)
	}
	return s, key
}

// BenchmarkLoad is the cost of an authenticated request that changes nothing.
func BenchmarkLoad(b *testing.B) {
	s, key := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		if _, err := s.Load(ctx, key, now, now.Add(30*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate is the cost of a request that changes the session.
func BenchmarkUpdate(b *testing.B) {
	s, key := benchStore(b)
	ctx := context.Background()
	p := &tether.Patch{Incr: map[string]int64{"views": 1}, Set: map[string]json.RawMessage{"last": json.RawMessage(`"/cart"`)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Update(ctx, key, time.Now(), p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel is many requests changing one session at once.
func BenchmarkUpdateParallel(b *testing.B) {
	s, key := benchStore(b)
	ctx := context.Background()
	p := &tether.Patch{Incr: map[string]int64{"views": 1}}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Update(ctx, key, time.Now(), p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLoadParallel is many requests reading sessions at once.
func BenchmarkLoadParallel(b *testing.B) {
	s, key := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now()
			if _, err := s.Load(ctx, key, now, now.Add(30*time.Minute)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

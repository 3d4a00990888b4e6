package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
	"github.com/tetherhq/tether/storetest"
)

func open(t *testing.T, path string, opts sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tether.Store {
		return open(t, filepath.Join(t.TempDir(), "s.db"), sqlitestore.Options{})
	})
}

func rec(idle time.Duration) *tether.Record {
	now := time.Now()
	return &tether.Record{Values: map[string]json.RawMessage{"views": json.RawMessage("3")}, UserID: "user-1001",
		CreatedAt: now, IdleDeadline: now.Add(idle), AbsoluteDeadline: now.Add(time.Hour)}
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, sqlitestore.Options{})
	if err := s.Create(context.Background(), "k", rec(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: got %v, want nil", err)
	}
	s = open(t, path, sqlitestore.Options{})
	got, err := s.Load(context.Background(), "k", time.Now(), time.Now().Add(time.Minute))
	if err != nil || got.UserID != "user-1001" || string(got.Values["views"]) != "3" {
		t.Fatalf("after reopen: got %+v %v, want the stored session", got, err)
	}
}

func TestSweeper(t *testing.T) {
	base := runtime.NumGoroutine()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "s.db"), sqlitestore.Options{SweepInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = s.Create(ctx, "short", rec(30*time.Millisecond))
	_ = s.Create(ctx, "long", rec(time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Load(ctx, "short", time.Unix(0, 0), time.Unix(0, 0)) // a "now" in the past: never refreshes
		if errors.Is(err, tether.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired row still present after 5s of 20ms sweeps (last Load: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Load(ctx, "long", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("live row after sweeps: %v", err)
	}
	s.Close()
	for end := time.Now().Add(time.Second); runtime.NumGoroutine() > base && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("goroutines after Close: got %d, want <= %d (sweeper leaked)", n, base)
	}
}

func TestMigrationsIdempotentAndFutureRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	open(t, path, sqlitestore.Options{}).Close()
	open(t, path, sqlitestore.Options{}).Close() // reopen: no error
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM tether_sessions_schema`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema rows after two opens: got %d %v, want 1", n, err)
	}
	if _, err := db.Exec(`INSERT INTO tether_sessions_schema (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	_, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("database from the future: got %v, want a refusal naming version 99", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "s.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = s.Load(context.Background(), "k", time.Now(), time.Now())
	if !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Load on a closed store: got %v, want ErrStoreUnavailable", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	s, _ := sqlitestore.Open(filepath.Join(b.TempDir(), "s.db"), sqlitestore.Options{})
	defer s.Close()
	ctx := context.Background()
	_ = s.Create(ctx, "k", rec(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Load(ctx, "k", time.Now(), time.Now().Add(30*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, _ := sqlitestore.Open(filepath.Join(b.TempDir(), "s.db"), sqlitestore.Options{})
	defer s.Close()
	ctx := context.Background()
	_ = s.Create(ctx, "k", rec(time.Hour))
	p := &tether.Patch{Incr: map[string]int64{"views": 1}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Update(ctx, "k", time.Now(), p); err != nil {
			b.Fatal(err)
		}
	}
}

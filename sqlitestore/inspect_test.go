package sqlitestore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
)

// Inspect reads without changing anything: an empty file stays empty, an
// expired row is counted out but not swept, and a newer schema is reported
// rather than refused.
func TestInspect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Inspect(ctx, empty)
	if err != nil || st.Schema != 0 || st.Latest < 1 {
		t.Fatalf("empty file: got %+v %v, want schema 0, latest ≥ 1", st, err)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Fatalf("empty file after Inspect: got %d bytes, want 0 (nothing created)", fi.Size())
	}

	path := filepath.Join(dir, "tether.db")
	s := open(t, path, sqlitestore.Options{SweepInterval: -1})
	now := time.Now()
	for i, idle := range []time.Duration{time.Hour, time.Hour, -time.Minute} {
		rec := &tether.Record{CreatedAt: now, IdleDeadline: now.Add(idle), AbsoluteDeadline: now.Add(2 * time.Hour)}
		if err := s.Create(ctx, string(rune('a'+i)), rec); err != nil {
			t.Fatal(err)
		}
	}
	st, err = sqlitestore.Inspect(ctx, path)
	if err != nil || st.Schema != st.Latest || st.Live != 2 {
		t.Fatalf("two live and one expired session: got %+v %v, want schema = latest, 2 live", st, err)
	}
	db := sqlDB(t, path)
	if n := countAll(t, db); n != 3 {
		t.Fatalf("rows after Inspect: got %d, want 3 (Inspect never sweeps)", n)
	}
	if _, err := db.Exec(`INSERT INTO tether_sessions_schema (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if st, err = sqlitestore.Inspect(ctx, path); err != nil || st.Schema != 99 {
		t.Fatalf("newer schema: got %+v %v, want schema 99 reported", st, err)
	}
	if _, err := sqlitestore.Inspect(ctx, filepath.Join(dir, "missing", "x.db")); err == nil {
		t.Fatal("Inspect of a missing file: got nil error (it must not create one)")
	}
}

func countAll(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tether_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

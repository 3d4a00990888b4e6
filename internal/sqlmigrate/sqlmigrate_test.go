package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

// openDB opens the SQLite file at path with a busy timeout, as the
// programs do, so that concurrent writers wait for each other; pragmas are
// more _pragma=… parameters, e.g. "&_pragma=journal_mode(WAL)".
func openDB(t *testing.T, path, pragmas string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)"+pragmas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// versions returns the rows of the version table, in order.
func versions(t *testing.T, db *sql.DB, table string) []int {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM ` + table + ` ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestApply(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	v1 := fstest.MapFS{"m/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)}}
	v2 := fstest.MapFS{
		"m/0001_a.sql": v1["m/0001_a.sql"],
		"m/0002_b.sql": {Data: []byte(`INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);`)},
	}
	broken := fstest.MapFS{
		"m/0001_a.sql": v1["m/0001_a.sql"],
		"m/0002_b.sql": v2["m/0002_b.sql"],
		"m/0003_c.sql": {Data: []byte(`INSERT INTO a VALUES (3); THIS IS NOT SQL;`)},
	}
	gap := fstest.MapFS{
		"m/0001_a.sql": v1["m/0001_a.sql"],
		"m/0002_b.sql": v2["m/0002_b.sql"],
		"m/0004_d.sql": {Data: []byte(`INSERT INTO a VALUES (4);`)},
	}
	// The steps run in order on one database.
	steps := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string // in the message; "" for no error
		newer   bool   // the error matches ErrNewerSchema
		rows    int
		version int
	}{
		{"first", v1, "", false, 0, 1},
		{"again is a no-op", v1, "", false, 0, 1},
		{"next migration", v2, "", false, 2, 2},
		{"again", v2, "", false, 2, 2},
		{"a failing migration rolls back whole", broken, "0003_c.sql", false, 2, 2},
		{"a gap in the numbering is refused", gap, "0004_d.sql: want a name starting 0003_", false, 2, 2},
		{"a newer database is refused", v1, "schema version 2, this program knows up to 1", true, 2, 2},
	}
	for _, st := range steps {
		err := Apply(ctx, db, st.fsys, "m", "schema_v")
		if st.wantErr == "" && err != nil || st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)) {
			t.Fatalf("%s: got %v, want error %q", st.name, err, st.wantErr)
		}
		if got := errors.Is(err, ErrNewerSchema); got != st.newer {
			t.Fatalf("%s: got errors.Is(%v, ErrNewerSchema) = %v, want %v", st.name, err, got, st.newer)
		}
		var rows, version int
		_ = db.QueryRow(`SELECT COUNT(*) FROM a`).Scan(&rows)
		_ = db.QueryRow(`SELECT MAX(version) FROM schema_v`).Scan(&version)
		if rows != st.rows || version != st.version {
			t.Fatalf("%s: got %d rows at version %d, want %d at %d", st.name, rows, version, st.rows, st.version)
		}
	}
}

// A newer database is refused with a *NewerSchemaError carrying both
// versions, which callers read to write their own message.
func TestNewerSchemaError(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"), "")
	v1 := fstest.MapFS{"m/0001_a.sql": {Data: []byte(`CREATE TABLE a (x);`)}}
	if err := Apply(ctx, db, v1, "m", "schema_v"); err != nil {
		t.Fatalf("first: got %v, want nil", err)
	}
	if _, err := db.Exec(`INSERT INTO schema_v (version) VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	err := Apply(ctx, db, v1, "m", "schema_v")
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || newer.Version != 7 || newer.Known != 1 || !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("newer schema: got %#v, want a *NewerSchemaError{Version: 7, Known: 1} matching ErrNewerSchema", err)
	}
	if got := versions(t, db, "schema_v"); fmt.Sprint(got) != "[1 7]" {
		t.Fatalf("versions after the refusal: got %v, want [1 7]", got)
	}
}

// A failing migration rolls back with the row recording it: the schema stays
// at the last good version and a later fixed run applies it.
func TestApplyRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"), "")
	good := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte("CREATE TABLE tether_a (x); CREATE TABLE tether_b (y);")}}
	if err := Apply(ctx, db, good, "migrations", "schema_v"); err != nil {
		t.Fatalf("first migration: got %v, want nil", err)
	}
	bad := fstest.MapFS{
		"migrations/0001_a.sql": good["migrations/0001_a.sql"],
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE tether_c (z); INSERT INTO no_such_table VALUES (1);")},
	}
	if err := Apply(ctx, db, bad, "migrations", "schema_v"); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("failing migration: got %v, want an error naming 0002_b.sql", err)
	}
	var version, tables int
	db.QueryRow(`SELECT MAX(version) FROM schema_v`).Scan(&version)
	db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'tether_c'`).Scan(&tables)
	if version != 1 || tables != 0 {
		t.Fatalf("after a failed migration: got version %d and %d tether_c tables, want version 1 and none", version, tables)
	}
	fixed := fstest.MapFS{
		"migrations/0001_a.sql": good["migrations/0001_a.sql"],
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE tether_c (z);")},
	}
	if err := Apply(ctx, db, fixed, "migrations", "schema_v"); err != nil {
		t.Fatalf("fixed migration: got %v, want nil", err)
	}
	db.QueryRow(`SELECT MAX(version) FROM schema_v`).Scan(&version)
	if version != 2 {
		t.Fatalf("after the fixed migration: got version %d, want 2", version)
	}
}

// A gap in the numbering is refused before the database is touched: not
// even the version table is created.
func TestApplyRefusesGap(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"), "")
	gap := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte(`CREATE TABLE a (x);`)},
		"m/0003_c.sql": {Data: []byte(`CREATE TABLE c (x);`)},
	}
	err := Apply(context.Background(), db, gap, "m", "schema_v")
	if err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("gap: got %v, want an error naming 0003_c.sql", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema objects after a refused gap: got %d (%v), want 0", n, err)
	}
}

// Components sharing a file keep their versions apart, each in its table.
func TestApplyTablePerComponent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"), "")
	one := fstest.MapFS{"m/0001_a.sql": {Data: []byte(`CREATE TABLE a (x);`)}}
	two := fstest.MapFS{
		"m/0001_b.sql": {Data: []byte(`CREATE TABLE b (x);`)},
		"m/0002_c.sql": {Data: []byte(`CREATE TABLE c (x);`)},
	}
	for _, step := range []struct {
		fsys  fstest.MapFS
		table string
	}{{two, "two_v"}, {one, "one_v"}, {two, "two_v"}} {
		if err := Apply(ctx, db, step.fsys, "m", step.table); err != nil {
			t.Fatalf("Apply for %s: got %v, want nil", step.table, err)
		}
	}
	if got := fmt.Sprint(versions(t, db, "one_v"), versions(t, db, "two_v")); got != "[1] [1 2]" {
		t.Fatalf("versions of one_v and two_v: got %s, want [1] [1 2]", got)
	}
}

// Several processes opening a new file at once apply each migration once:
// each Apply here has its own pool, as separate processes would, and none
// may fail. A migration run twice would fail (CREATE TABLE of an existing
// table) or show (a second row in t).
//
// In WAL mode the file is switched to WAL before the race: on a fresh file
// the switch (journal_mode(WAL) in the DSN) happens as a connection opens,
// before Apply, and SQLite may refuse it with SQLITE_BUSY at once, without
// waiting out the busy timeout, when another connection is doing the same.
func TestApplyConcurrent(t *testing.T) {
	const n = 8
	fsys := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte(`CREATE TABLE t (x); INSERT INTO t VALUES (1);`)},
		"m/0002_b.sql": {Data: []byte(`CREATE TABLE u (y); INSERT INTO t VALUES (2);`)},
	}
	cases := []struct {
		name    string
		pragmas string
		before  fstest.MapFS // applied before the race; nil for none
	}{
		{"fresh file, rollback journal", "", nil},
		{"fresh file, WAL", "&_pragma=journal_mode(WAL)", nil},
		// The version table exists, so every Apply reads it before
		// writing: only the immediate transaction keeps them apart.
		{"file at version 0, WAL", "&_pragma=journal_mode(WAL)", fstest.MapFS{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.db")
			first := openDB(t, path, tc.pragmas)
			if err := first.Ping(); err != nil {
				t.Fatal(err)
			}
			if tc.before != nil {
				if err := Apply(context.Background(), first, tc.before, "m", "schema_v"); err != nil {
					t.Fatal(err)
				}
			}
			dbs := make([]*sql.DB, n)
			for i := range dbs {
				dbs[i] = openDB(t, path, tc.pragmas)
			}
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, db := range dbs {
				wg.Go(func() {
					<-start
					errs[i] = Apply(context.Background(), db, fsys, "m", "schema_v")
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Apply %d of %d: got %v, want nil", i+1, n, err)
				}
			}
			if got := versions(t, first, "schema_v"); fmt.Sprint(got) != "[1 2]" {
				t.Errorf("versions after %d concurrent Apply calls: got %v, want [1 2]", n, got)
			}
			var rows int
			if err := first.QueryRow(`SELECT count(*) FROM t`).Scan(&rows); err != nil || rows != 2 {
				t.Errorf("rows of t after %d concurrent Apply calls: got %d (%v), want 2", n, rows, err)
			}
		})
	}
}

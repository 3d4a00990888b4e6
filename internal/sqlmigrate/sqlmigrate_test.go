package sqlmigrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

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
	steps := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
		rows    int
		version int
	}{
		{"first", v1, "", 0, 1},
		{"again is a no-op", v1, "", 0, 1},
		{"next migration", v2, "", 2, 2},
		{"again", v2, "", 2, 2},
		{"a failing migration rolls back whole", broken, "0003_c.sql", 2, 2},
		{"a newer database is refused", v1, "schema version 2 but this program knows only 1", 2, 2},
	}
	for _, st := range steps {
		err := Apply(ctx, db, st.fsys, "m", "schema_v", "test")
		if st.wantErr == "" && err != nil || st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)) {
			t.Fatalf("%s: got %v, want error %q", st.name, err, st.wantErr)
		}
		var rows, version int
		_ = db.QueryRow(`SELECT COUNT(*) FROM a`).Scan(&rows)
		_ = db.QueryRow(`SELECT MAX(version) FROM schema_v`).Scan(&version)
		if rows != st.rows || version != st.version {
			t.Fatalf("%s: got %d rows at version %d, want %d at %d", st.name, rows, version, st.rows, st.version)
		}
	}
}

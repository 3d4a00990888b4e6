package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tetherhq/tether/internal/sqlmigrate"
)

// ReadOnlyDSN is the data source name of a read-only connection to the
// database file at path: SQLite's mode=ro, so nothing can create, migrate
// or write the file through it, with the same 5 s busy timeout as DSN.
func ReadOnlyDSN(path string) string {
	return "file:" + uriPath(path) + "?mode=ro&_pragma=busy_timeout(5000)"
}

// Status is what Inspect found in a session database.
type Status struct {
	// Schema is the file's schema version (0: no session tables yet) and
	// Latest the version Open would migrate it to.
	Schema, Latest int
	// Live is the number of sessions that have not expired, counted only
	// when Schema is at least 1.
	Live int64
}

// Inspect reports the schema version and the live sessions of the session
// database at path, reading it through a read-only connection: unlike Open,
// it never creates, migrates or sweeps the file, so health checks such as
// tether doctor can run against a live server's file. The file must exist.
// As for any reader of a WAL database, SQLite may create the -wal and -shm
// files beside it (an empty log and the shared-memory index) when they do
// not exist yet, that is when no server has the file open; run as root, it
// gives them the database file's owner.
func Inspect(ctx context.Context, path string) (Status, error) {
	migrations, err := sqlmigrate.Read(migrationFiles, "migrations")
	if err != nil {
		return Status{}, fmt.Errorf("sqlitestore: inspect: %w", err)
	}
	st := Status{Latest: len(migrations)}
	db, err := sql.Open("sqlite", ReadOnlyDSN(path))
	if err != nil {
		return st, fmt.Errorf("sqlitestore: inspect: %w", err)
	}
	defer db.Close()
	if st.Schema, err = SchemaVersion(ctx, db, schemaTable); err != nil {
		return st, fmt.Errorf("sqlitestore: inspect: %w", classify(err))
	}
	if st.Schema >= 1 {
		// idle_deadline is never after absolute_deadline.
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tether_sessions WHERE idle_deadline > ?`,
			time.Now().UnixMilli()).Scan(&st.Live)
		if err != nil {
			return st, fmt.Errorf("sqlitestore: inspect: %w", classify(err))
		}
	}
	return st, nil
}

// SchemaVersion returns the highest version recorded in the SQLite version
// table named table (a trusted identifier), or 0 when the table does not
// exist. It only reads.
func SchemaVersion(ctx context.Context, db *sql.DB, table string) (int, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	var v int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&v)
	return v, err
}

// Package sqlmigrate applies numbered SQL migrations embedded in a program.
//
// Migrations are the *.sql files of a directory in an fs.FS, applied in name
// order, all in one transaction with the rows that record them in the
// version table, so a crash leaves the schema at a known version; reopening
// an up-to-date database is a no-op, and a database newer than the program
// is refused rather than misread. Several components can share one database,
// each with its own version table.
package sqlmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// Apply brings db up to date with the migrations in dir of fsys, recording
// versions in table (a trusted identifier, never user input). errPrefix
// starts every error, e.g. "sqlitestore".
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, dir, table, errPrefix string) error {
	fail := func(what string, err error) error { return fmt.Errorf("%s: %s: %w", errPrefix, what, err) }
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version INTEGER NOT NULL)`); err != nil {
		return fail("migrate", err)
	}
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return fail("migrate", err)
	}
	sort.Strings(names)
	// One transaction reads the version and applies what is missing. With
	// IMMEDIATE transactions (the DSN's _txlock), two processes opening a new
	// file at once queue here instead of both applying migration 1.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail("migrate", err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&current); err != nil {
		return fail("migrate", err)
	}
	if current > len(names) {
		return fmt.Errorf("%s: the database has schema version %d but this program knows only %d; run a newer tether", errPrefix, current, len(names))
	}
	for i := current; i < len(names); i++ {
		body, err := fs.ReadFile(fsys, names[i])
		if err != nil {
			return fail("migrate", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fail("migration "+names[i], err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version) VALUES (?)`, i+1); err != nil {
			return fail("migration "+names[i], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("migrate", err)
	}
	return nil
}

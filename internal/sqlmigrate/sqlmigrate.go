// Package sqlmigrate applies numbered SQL migrations embedded in a program
// to an SQLite database. It is the one migration runner of the module: the
// session store (sqlitestore) and the user directory (internal/users) both
// use it, each with its own version table, so they can share one file.
//
// Migrations are the files dir/0001_what.sql, dir/0002_what.sql… of an
// fs.FS, numbered without gaps (see Read). Apply runs them in one BEGIN
// IMMEDIATE transaction on one connection, with the rows that record them in
// the version table: two processes opening a new file at once apply each
// migration once, a failed migration leaves the schema as it was,
// reopening an up-to-date database is a no-op, and a database newer than
// the program is refused (ErrNewerSchema) rather than misread.
package sqlmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/tetherhq/tether/internal/sqlitetx"
)

// Apply brings db up to date with the migrations in dir of fsys, recording
// each applied version as a row of table (created if missing; a trusted
// identifier, never user input, and one per component sharing the file).
//
// Reading the version and applying what is missing happen in one BEGIN
// IMMEDIATE transaction, whatever _txlock db was opened with: it holds
// SQLite's write lock from its start, so concurrent Apply calls, from this
// process or another, run one after the other, and all but the first find
// nothing to do. A caller waits for the lock only as long as db's
// busy_timeout allows (0, SQLite's default, means it fails at once with
// SQLITE_BUSY), so open db with a busy timeout.
//
// Errors: a numbering mistake in the files is reported before db is
// touched; a database whose version is beyond the files gives a
// *NewerSchemaError, which matches ErrNewerSchema; a failing migration
// gives an error naming its file and wrapping SQLite's error. Callers add
// their own prefix.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, dir, table string) error {
	migrations, err := Read(fsys, dir)
	if err != nil {
		return err
	}
	return sqlitetx.Immediate(ctx, db, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&current); err != nil {
			return err
		}
		if current > len(migrations) {
			return &NewerSchemaError{Version: current, Known: len(migrations)}
		}
		for _, m := range migrations[current:] {
			if _, err := c.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := c.ExecContext(ctx, `INSERT INTO `+table+` (version) VALUES (?)`, m.Version); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

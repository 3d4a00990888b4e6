package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/tetherhq/tether/internal/sqlmigrate"
)

// migrationFiles holds the schema migrations, numbered from 0001 without
// gaps: migrations/NNNN_what.sql. A released file is never edited; a change
// of schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// schemaTable records the applied migrations, one row per version.
const schemaTable = "tether_sessions_schema"

// migrate brings db's schema up to date with the migrations in fsys. Checking
// the version and applying what is missing happen in one BEGIN IMMEDIATE
// transaction, so two processes opening a new file at once apply each
// migration once, and a failed migration leaves the schema as it was.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	migrations, err := sqlmigrate.Read(fsys, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = immediate(ctx, db, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+schemaTable+` (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+schemaTable).Scan(&current); err != nil {
			return err
		}
		if current > len(migrations) {
			return fmt.Errorf("%w: the file has schema version %d, this program knows up to %d; run a newer version of the program or use another file",
				ErrNewerSchema, current, len(migrations))
		}
		for _, m := range migrations[current:] {
			if _, err := c.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := c.ExecContext(ctx, `INSERT INTO `+schemaTable+` (version) VALUES (?)`, m.Version); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	return nil
}

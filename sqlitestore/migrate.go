package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles holds the schema migrations, numbered from 0001 without
// gaps: migrations/NNNN_what.sql. A released file is never edited; a change
// of schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// schemaTable records the applied migrations, one row per version.
const schemaTable = "tether_sessions_schema"

type migration struct {
	version int
	name    string
	sql     string
}

// readMigrations returns the migrations in fsys's migrations directory in
// version order, checking that they are numbered 1, 2, 3… without gaps.
func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration file %s: want a name starting %04d_", base, i+1)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	return out, nil
}

// migrate brings db's schema up to date with the migrations in fsys. Checking
// the version and applying what is missing happen in one BEGIN IMMEDIATE
// transaction, so two processes opening a new file at once apply each
// migration once, and a failed migration leaves the schema as it was.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	migrations, err := readMigrations(fsys)
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
			if _, err := c.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := c.ExecContext(ctx, `INSERT INTO `+schemaTable+` (version) VALUES (?)`, m.version); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	return nil
}

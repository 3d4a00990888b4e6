package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles holds the schema migrations, numbered from 0001 without
// gaps: migrations/NNNN_what.sql. A released file is never edited; a change
// of schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// schemaTable records the applied migrations, one row per version.
const schemaTable = "tether_sessions_schema"

// Advisory lock classes (the first key of the two-key form; the second is a
// hash of the schema, so stores in different schemas of one database do not
// wait for each other). internal/users uses 0x7e7e_0001.
const (
	migrateLockClass = 0x7e7e_0002
	sweepLockClass   = 0x7e7e_0003
)

// schemaKey is the second advisory lock key: the schema the tables live in.
const schemaKey = `hashtext(COALESCE(current_schema(), ''))`

// ErrNewerSchema is wrapped by the error of Open and New when the database
// was migrated by a newer version of this package than the running one.
var ErrNewerSchema = errors.New("pgstore: database schema is newer than this program knows")

// migrations returns the embedded migration files in order.
func migrations() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for i, n := range names {
		if want := fmt.Sprintf("migrations/%04d_", i+1); len(n) < len(want) || n[:len(want)] != want {
			return nil, fmt.Errorf("migration %s: want the prefix %s (numbered without gaps)", n, want[len("migrations/"):])
		}
	}
	return names, nil
}

// migrate brings the schema up to date in one transaction that first takes
// a transaction-level advisory lock, so that instances starting at once
// apply each migration exactly once and a failed migration leaves the
// schema as it was. A newer schema gives an error wrapping ErrNewerSchema.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := migrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, `+schemaKey+`)`, migrateLockClass); err != nil {
			return classify("migrate", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+schemaTable+` (version INTEGER PRIMARY KEY)`); err != nil {
			return classify("migrate", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+schemaTable).Scan(&current); err != nil {
			return classify("migrate", err)
		}
		if current > len(names) {
			return fmt.Errorf("%w: the database has schema version %d, this program knows up to %d; run a newer version of the program or use another schema",
				ErrNewerSchema, current, len(names))
		}
		for i := current; i < len(names); i++ {
			body, err := migrationFiles.ReadFile(names[i])
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return classify("migration "+names[i], err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+schemaTable+` (version) VALUES ($1)`, i+1); err != nil {
				return classify("migration "+names[i], err)
			}
		}
		return nil
	})
}

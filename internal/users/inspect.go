package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/tetherhq/tether/sqlitestore"
)

// Summary is what Inspect found in a user directory.
type Summary struct {
	// Schema is the directory's schema version (0: no tables yet) and
	// Latest the version Open or OpenPostgres would migrate it to.
	Schema, Latest int
	// Users, Admins and Disabled count the accounts (when Schema ≥ 1).
	Users, Admins, Disabled int
}

// countsSQL works in SQLite and PostgreSQL alike (disabled is 0/1 in one,
// a boolean in the other).
const countsSQL = `SELECT COUNT(*),
	COALESCE(SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN disabled THEN 1 ELSE 0 END), 0) FROM tether_users`

func latest(fsys fs.FS, dir string) int {
	names, _ := fs.Glob(fsys, dir+"/*.sql")
	return len(names)
}

// InspectSQLite summarises the SQLite user directory at path through a
// read-only connection: unlike Open, it never creates or migrates the file.
func InspectSQLite(ctx context.Context, path string) (Summary, error) {
	sum := Summary{Latest: latest(migrations, "migrations")}
	db, err := sql.Open("sqlite", sqlitestore.ReadOnlyDSN(path))
	if err != nil {
		return sum, fmt.Errorf("users: inspect %s: %w", path, err)
	}
	defer db.Close()
	if sum.Schema, err = sqlitestore.SchemaVersion(ctx, db, schemaTable); err != nil {
		return sum, fmt.Errorf("users: inspect %s: %w", path, err)
	}
	if sum.Schema >= 1 {
		if err := db.QueryRowContext(ctx, countsSQL).Scan(&sum.Users, &sum.Admins, &sum.Disabled); err != nil {
			return sum, fmt.Errorf("users: inspect %s: %w", path, err)
		}
	}
	return sum, nil
}

// InspectPostgres summarises the PostgreSQL user directory at url in a
// READ ONLY transaction: unlike OpenPostgres, it never creates or migrates
// anything. Errors never contain the URL.
func InspectPostgres(ctx context.Context, url string) (Summary, error) {
	sum := Summary{Latest: latest(pgMigrations, "pgmigrations")}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return sum, errors.New("users: DATABASE_URL is not a valid PostgreSQL URL")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return sum, fmt.Errorf("users: cannot reach PostgreSQL at %s:%d (from DATABASE_URL); check that it runs and the URL's user, password and database: %w",
			cfg.Host, cfg.Port, redactPG(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return sum, fmt.Errorf("users: inspect: %w", redactPG(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('`+schemaTable+`') IS NOT NULL`).Scan(&exists); err != nil {
		return sum, fmt.Errorf("users: inspect: %w", redactPG(err))
	}
	if !exists {
		return sum, nil
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+schemaTable).Scan(&sum.Schema); err != nil {
		return sum, fmt.Errorf("users: inspect: %w", redactPG(err))
	}
	if sum.Schema >= 1 {
		if err := tx.QueryRow(ctx, countsSQL).Scan(&sum.Users, &sum.Admins, &sum.Disabled); err != nil {
			return sum, fmt.Errorf("users: inspect: %w", redactPG(err))
		}
	}
	return sum, nil
}

package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
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

// migrate brings db's schema up to date with the migrations in fsys's
// migrations directory, with sqlmigrate.Apply: one BEGIN IMMEDIATE
// transaction, so two processes opening a new file at once apply each
// migration once, and a failed migration leaves the schema as it was. A
// newer schema gives an error wrapping ErrNewerSchema; other errors are
// classified (tether.ErrStoreUnavailable when the database could not answer).
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	err := sqlmigrate.Apply(ctx, db, fsys, "migrations", schemaTable)
	var newer *sqlmigrate.NewerSchemaError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &newer):
		return fmt.Errorf("migrate: %w: the file has schema version %d, this program knows up to %d; run a newer version of the program or use another file",
			ErrNewerSchema, newer.Version, newer.Known)
	default:
		return fmt.Errorf("migrate: %w", classify(err))
	}
}

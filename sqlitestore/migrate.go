package sqlitestore

import (
	"context"
	"database/sql"
	"embed"

	"github.com/tetherhq/tether/internal/sqlmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the embedded migrations, recording them in
// tether_sessions_schema.
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlmigrate.Apply(ctx, db, migrations, "migrations", "tether_sessions_schema", "sqlitestore")
}

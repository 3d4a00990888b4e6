package users

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tetherhq/tether/passwords"
)

// sampleSize bounds how many stored hashes Open and OpenPostgres count at
// start: the most recent accounts', below the 1024 at which the Hasher's
// tally halves its counts.
const sampleSize = 1000

// sampleSQL reads the sample; it is the same in SQLite and PostgreSQL.
var sampleSQL = fmt.Sprintf(`SELECT password_hash FROM tether_users ORDER BY seq DESC LIMIT %d`, sampleSize)

// countSQLite and countPostgres pass a sample of the stored hashes to
// passwords.Hasher.CountStored (a parse each, no hashing), so that the
// dummy work of an unknown user's login follows the parameters of a typical
// stored hash from the first login after a restart, not from the first
// verifications (issue 11 row 9). A malformed hash is skipped: a login of
// that account fails closed anyway.
func countSQLite(ctx context.Context, db *sql.DB, h *passwords.Hasher) error {
	rows, err := db.QueryContext(ctx, sampleSQL)
	if err != nil {
		return fmt.Errorf("users: count stored hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hash string
		if err := rows.Scan(&hash); err != nil {
			return fmt.Errorf("users: count stored hashes: %w", err)
		}
		_ = h.CountStored(hash)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("users: count stored hashes: %w", err)
	}
	return nil
}

func countPostgres(ctx context.Context, pool *pgxpool.Pool, h *passwords.Hasher) error {
	rows, err := pool.Query(ctx, sampleSQL)
	if err != nil {
		return fmt.Errorf("users: count stored hashes: %w", redactPG(err))
	}
	defer rows.Close()
	for rows.Next() {
		var hash string
		if err := rows.Scan(&hash); err != nil {
			return fmt.Errorf("users: count stored hashes: %w", redactPG(err))
		}
		_ = h.CountStored(hash)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("users: count stored hashes: %w", redactPG(err))
	}
	return nil
}

package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// The per-user index is tether_sessions_user, a partial index on user_id
// WHERE user_id <> ”; the queries repeat that condition so that SQLite can
// use it. Anonymous sessions (user_id ”) are not indexed and never listed.
const (
	listUserSQL = `SELECT key, ` + recordColumns + ` FROM tether_sessions
		WHERE user_id = ?1 AND user_id <> '' AND idle_deadline > ?2 AND absolute_deadline > ?2`
	deleteUserSQL = `DELETE FROM tether_sessions WHERE user_id = ?1 AND user_id <> ''`
)

// ListUser implements [tether.UserIndex]: the keys and records of the user's
// sessions that are live at now, read through the user_id index. It runs
// beside the Store's writer and does not move any deadline.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlitestore: list user: %w", errClosed)
	}
	out := make(map[string]*tether.Record)
	if userID == "" {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, listUserSQL, userID, unixms.From(now))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		rec, err := scanRecord(rows, &key)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list user: %w", classify(err))
		}
		out[key] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", classify(err))
	}
	return out, nil
}

// DeleteUser implements [tether.UserIndex]: it deletes every session of the
// user, expired or not, in one statement, and returns how many it deleted.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	var n int64
	err := s.exclusive(ctx, func() error {
		res, err := s.wdb.ExecContext(ctx, deleteUserSQL, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user: %w", classify(err))
	}
	return int(n), nil
}

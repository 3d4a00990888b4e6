package pgstore

import (
	"context"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// The per-user index is tether_sessions_user, a partial index on user_id
// over the rows whose user_id is not empty; the queries repeat that
// condition so that the planner can use it. Anonymous sessions (an empty
// user_id) are not indexed and never listed.
const (
	listUserSQL = `SELECT key, ` + recordColumns + ` FROM tether_sessions
		WHERE user_id = $1 AND user_id <> '' AND idle_deadline > $2 AND absolute_deadline > $2`
	deleteUserSQL = `DELETE FROM tether_sessions WHERE user_id = $1 AND user_id <> ''`
)

// ListUser implements [tether.UserIndex]: the keys and records of the user's
// sessions that are live at now, read through the user_id index in one
// statement. It moves no deadline.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	if err := s.check("list user"); err != nil {
		return nil, err
	}
	out := make(map[string]*tether.Record)
	if userID == "" {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, listUserSQL, userID, unixms.From(now))
	if err != nil {
		return nil, classify("list user", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		rec, err := scanRecord(rows, &key)
		if err != nil {
			return nil, classify("list user", err)
		}
		out[key] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, classify("list user", err)
	}
	return out, nil
}

// DeleteUser implements [tether.UserIndex]: it deletes every session of the
// user, expired or not, in one statement, and returns how many it deleted.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.check("delete user"); err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, deleteUserSQL, userID)
	if err != nil {
		return 0, classify("delete user", err)
	}
	return int(tag.RowsAffected()), nil
}

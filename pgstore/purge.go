package pgstore

import (
	"context"

	"github.com/tetherhq/tether"
)

var _ tether.Purger = (*Store)(nil)

// DeleteAll implements [tether.Purger]: one DELETE of every row of the
// sessions table, anonymous and authenticated, live or not yet swept, and
// returns how many it deleted. It is one statement, so every session that
// existed when it started is gone when it returns; an Update racing it waits
// for the row lock and then finds no row (no resurrection). It is not a
// TRUNCATE, which would take an exclusive lock on the table and block every
// request for its duration. The per-user index is an index of the same table
// and empties with it.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	if err := s.check("delete all"); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM tether_sessions`)
	if err != nil {
		return 0, classify("delete all", err)
	}
	return int(tag.RowsAffected()), nil
}

package sqlitestore

import (
	"context"
	"fmt"

	"github.com/tetherhq/tether"
)

var _ tether.Purger = (*Store)(nil)

// DeleteAll implements [tether.Purger]: one DELETE of every row, anonymous
// and authenticated sessions, live or not yet swept, under the write slot,
// so that no session that existed when it started survives it. The per-user
// index is an index of the same table and empties with it. It holds
// SQLite's write lock for as long as the statement takes; requests wait for
// it within the busy timeout.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	var n int64
	err := s.exclusive(ctx, func() error {
		res, err := s.wdb.ExecContext(ctx, `DELETE FROM tether_sessions`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete all: %w", classify(err))
	}
	return int(n), nil
}

package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/tetherhq/tether/internal/unixms"
)

// sweepBatch is how many rows one sweep statement deletes at most, so that
// a sweep after a long pause holds the write lock only briefly at a time.
const sweepBatch = 500

// sweepSQL deletes up to ?2 rows expired at ?1 through the idle_deadline
// index; the idle deadline is never after the absolute one.
const sweepSQL = `DELETE FROM tether_sessions WHERE key IN
	(SELECT key FROM tether_sessions WHERE idle_deadline <= ?1 LIMIT ?2)`

// Sweep deletes every row that has expired now and returns how many it
// deleted. It deletes in batches, taking the write slot for each, so
// requests go on between batches. The background sweeper calls it; tests and
// tools may too. It is safe to call concurrently with everything else.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := unixms.From(time.Now())
	total := 0
	for {
		var n int64
		err := s.exclusive(ctx, func() error {
			res, err := s.wdb.ExecContext(ctx, sweepSQL, now, sweepBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlitestore: sweep: %w", classify(err))
		}
		total += int(n)
		if n < sweepBatch {
			return total, nil
		}
	}
}

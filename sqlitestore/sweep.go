package sqlitestore

import (
	"context"
	"fmt"
	"time"
)

// Sweep deletes every row whose idle deadline (never later than its absolute
// deadline) has passed, and returns how many it deleted.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tether_sessions WHERE idle_deadline <= ?`, time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: sweep: %w", wrap(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// sweepLoop runs Sweep every interval until Close.
func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			_, _ = s.Sweep(ctx) // a failed sweep is retried on the next tick
			cancel()
		}
	}
}

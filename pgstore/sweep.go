package pgstore

import (
	"context"
	"time"

	"github.com/tetherhq/tether/internal/unixms"
)

// sweepBatch is how many rows one sweep statement deletes at most: each
// batch is its own short transaction, so a sweep after a long pause never
// holds many row locks, or holds them for long.
const sweepBatch = 500

// sweepSQL deletes up to $2 rows expired at $1, found through the index on
// expiry_slot, the idle deadline in 5-minute steps (the idle deadline is
// never after the absolute one).
// Rows locked by a request at that moment are skipped, not waited for; the
// next sweep gets them.
const sweepSQL = `DELETE FROM tether_sessions WHERE ctid = ANY (ARRAY(
	SELECT ctid FROM tether_sessions WHERE expiry_slot <= $1::bigint / 300000 AND idle_deadline <= $1::bigint
	LIMIT $2 FOR UPDATE SKIP LOCKED))`

// Sweep deletes the rows that have expired now, in batches of at most 500,
// and returns how many it deleted. One instance sweeps at a time: Sweep
// holds a session-level advisory lock (pg_try_advisory_lock, keyed by the
// schema) on one connection while it runs, and returns (0, nil) at once
// when another Store holds it. The background sweeper calls it; tests and
// tools may too. It is safe to call concurrently with everything else.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.check("sweep"); err != nil {
		return 0, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, classify("sweep", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, `+schemaKey+`)`, sweepLockClass).Scan(&locked); err != nil {
		return 0, classify("sweep", err)
	}
	if !locked {
		return 0, nil
	}
	defer func() {
		// A lock that cannot be released goes with its connection.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, `+schemaKey+`)`, sweepLockClass); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	now := unixms.From(time.Now())
	total := 0
	for {
		tag, err := conn.Exec(ctx, sweepSQL, now, sweepBatch)
		if err != nil {
			return total, classify("sweep", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < sweepBatch {
			return total, nil
		}
	}
}

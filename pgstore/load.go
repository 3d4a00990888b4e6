package pgstore

import (
	"context"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// loadSQL is Load's single statement ($1 key, $2 the requested idle
// deadline, $3 now; Unix milliseconds). The CTE moves the idle deadline of
// a live row to min($2, absolute_deadline), but only when that moves it
// backwards or forwards by at least min(1 s, ($2-$3)/10): a busy session is
// written at most about once a second, and the other requests on it are a
// plain read that takes no row lock. $2 = 0 (a zero idleDeadline) moves
// nothing, as in [tether.Patch]. The row comes from the CTE when it was
// moved (the version just written) and from the table otherwise, so an
// expired row is returned unchanged. The UPDATE's conditions are plain
// comparisons of the row's columns, which READ COMMITTED checks again on
// the newest version when the statement waited for a concurrent writer's
// row lock: a row that writer deleted, expired or already moved is not
// written. What is then returned is the row as the statement's snapshot
// saw it, before that writer: a read ordered before the concurrent write,
// never a write of a stale version.
const loadSQL = `WITH moved AS (
	UPDATE tether_sessions SET idle_deadline = LEAST($2::bigint, absolute_deadline)
	WHERE key = $1 AND $2::bigint <> 0 AND idle_deadline > $3::bigint AND absolute_deadline > $3::bigint
		AND (LEAST($2::bigint, absolute_deadline) < idle_deadline
			OR LEAST($2::bigint, absolute_deadline) - idle_deadline >= GREATEST(1, LEAST(1000, ($2::bigint - $3::bigint) / 10)))
	RETURNING ` + recordColumns + `
)
SELECT * FROM moved
UNION ALL
SELECT ` + recordColumns + ` FROM tether_sessions WHERE key = $1 AND NOT EXISTS (SELECT FROM moved)`

// Load implements [tether.Store] in one statement (one round trip): it moves
// the idle deadline of a live record, at most about once a second, and
// returns an expired record unchanged (the sweeper deletes it later).
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	return s.queryRecord(ctx, "load", loadSQL, key, unixms.From(idleDeadline), unixms.From(now))
}

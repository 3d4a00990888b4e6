package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// updateSQL is Update's single statement. It changes the row only while it
// is live at $2, and builds the new values from the stored ones inside the
// statement, so that concurrent updates of one row queue on its row lock
// and each applies its patch to the version the previous one committed
// (READ COMMITTED re-evaluates the SET expressions on the newest version):
// no change and no increment is lost, and an update never creates a row.
//
// Parameters: $1 key, $2 now, $3/$4 the keys and JSON texts of Patch.Set,
// $5 Patch.Delete, $6/$7 the keys and deltas of Patch.Incr, $8 the new idle
// deadline and $9 the new authentication time (0: unchanged). The new
// values are, as in [tether.Patch.Apply]: the stored values whose keys are
// neither set, deleted nor incremented; the set values whose keys are not
// deleted; and each increment, the stored value plus the delta. A stored
// value is an integer exactly when its JSON text is one that bigint accepts
// (null, strings, 2.5, 1.0 and 1e3 are not); any other text, or a sum
// outside int64, makes the cast or the addition fail with SQLSTATE 22P02
// or 22003, which fails the whole statement and is reported as
// [tether.ErrNotInteger]. A missing key counts as 0.
const updateSQL = `UPDATE tether_sessions AS s SET
	vals = (SELECT COALESCE(json_object_agg(m.k, m.v ORDER BY m.k), '{}'::json) FROM (
		SELECT e.key AS k, e.value AS v FROM json_each(s.vals) AS e
			WHERE e.key <> ALL ($3::text[]) AND e.key <> ALL ($5::text[]) AND e.key <> ALL ($6::text[])
		UNION ALL
		SELECT u.k, u.v::json FROM unnest($3::text[], $4::text[]) AS u (k, v)
			WHERE u.k <> ALL ($5::text[])
		UNION ALL
		SELECT u.k, to_json(COALESCE((s.vals -> u.k)::text, '0')::bigint + u.d)
			FROM unnest($6::text[], $7::bigint[]) AS u (k, d)
	) AS m),
	idle_deadline = CASE WHEN $8::bigint <> 0 THEN LEAST($8::bigint, s.absolute_deadline) ELSE s.idle_deadline END,
	authenticated_at = CASE WHEN $9::bigint <> 0 THEN $9::bigint ELSE s.authenticated_at END
WHERE s.key = $1 AND s.idle_deadline > $2::bigint AND s.absolute_deadline > $2::bigint
RETURNING ` + recordColumns

// readSQL is Update's statement for an empty patch: the record, only while
// it is live.
const readSQL = `SELECT ` + recordColumns + ` FROM tether_sessions
	WHERE key = $1 AND idle_deadline > $2::bigint AND absolute_deadline > $2::bigint`

// Update implements [tether.Store] in one statement (one round trip): the
// patch is applied by PostgreSQL to the row as it is when the statement
// gets its lock, only if the row exists and is live at now. A value
// holding U+0000 is refused (see the package documentation).
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	if p.Empty() {
		return s.queryRecord(ctx, "update", readSQL, key, unixms.From(now))
	}
	// Never nil: `x <> ALL (NULL)` is NULL, which would drop every value.
	setKeys, setVals := make([]string, 0, len(p.Set)), make([]string, 0, len(p.Set))
	for k, v := range p.Set {
		enc, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("pgstore: update: %w", err)
		}
		setKeys, setVals = append(setKeys, k), append(setVals, enc)
	}
	del := append(make([]string, 0, len(p.Delete)), p.Delete...)
	incKeys, incDeltas := make([]string, 0, len(p.Incr)), make([]int64, 0, len(p.Incr))
	for k, d := range p.Incr {
		incKeys, incDeltas = append(incKeys, k), append(incDeltas, d)
	}
	rec, err := s.queryRecord(ctx, "update", updateSQL, key, unixms.From(now), setKeys, setVals, del, incKeys, incDeltas,
		unixms.From(p.IdleDeadline), unixms.From(p.AuthenticatedAt))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "22P02" || pe.Code == "22003") {
		return nil, tether.ErrNotInteger
	}
	return rec, err
}

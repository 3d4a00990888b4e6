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
// and each applies its patch to the version the previous one committed:
// under READ COMMITTED, a statement that waited for the lock evaluates its
// conditions on the row and its SET expressions again on the newest
// version (EvalPlanQual), so no change and no increment is lost, and an
// update never creates a row.
//
// Parameters: $1 key, $2 now, $3/$4 the keys and JSON texts of Patch.Set,
// $5 Patch.Delete, $6/$7 the keys and deltas of Patch.Incr, $8 the new idle
// deadline, $9 the new authentication time (0: unchanged), and $10/$11 the
// keys and values of Patch.Expect (NULL: the key must be absent), compared
// byte for byte with the stored JSON text of each value. The new values
// are, as in [tether.Patch.Apply]: the stored values whose keys are neither
// set, deleted nor incremented; the set values whose keys are not deleted;
// and each increment, the stored value plus the delta. A stored value is an
// integer exactly when its JSON text is one that bigint accepts (null,
// strings, 2.5, 1.0 and 1e3 are not); any other text, or a sum outside
// int64, makes the cast or the addition fail with SQLSTATE 22P02 or 22003,
// which fails the whole statement and is reported as [tether.ErrNotInteger].
// A missing key counts as 0.
//
// The Expect check is a scalar subquery (count the mismatches, want 0), not
// NOT EXISTS, on purpose: the planner turns a NOT EXISTS into an anti-join
// with the unnest of $10/$11, and the recheck after a lock wait does not
// run a join's other side again (it reuses the row that side produced,
// and an anti-join produces none), so with NOT EXISTS every Expect held on
// the newest version and several concurrent compare-and-set updates
// applied. A scalar subquery is never made a join: it stays a subplan in
// the filter of the row's scan, evaluated again on the newest version like
// the liveness test, so of concurrent compare-and-set updates exactly one
// applies. TestUpdateExpectPlan checks the plan, and
// TestUpdateExpectAfterLockWait the behaviour after a lock wait.
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
	AND (SELECT count(*) FROM unnest($10::text[], $11::text[]) AS x (k, v)
		WHERE (s.vals -> x.k)::text COLLATE "C" IS DISTINCT FROM x.v) = 0
RETURNING ` + recordColumns

// readSQL is Update's statement for an empty patch: the record, only while
// it is live.
const readSQL = `SELECT ` + recordColumns + ` FROM tether_sessions
	WHERE key = $1 AND idle_deadline > $2::bigint AND absolute_deadline > $2::bigint`

// Update implements [tether.Store] in one statement (one round trip): the
// patch is applied by PostgreSQL to the row as it is when the statement
// gets its lock, only if the row exists, is live at now and matches
// Patch.Expect. A patch whose Expect did not match costs a second statement,
// which tells [tether.ErrConflict] from [tether.ErrNotFound]. A value
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
	expKeys, expVals := make([]string, 0, len(p.Expect)), make([]*string, 0, len(p.Expect))
	for k, v := range p.Expect {
		var want *string
		if len(v) > 0 {
			w := string(v)
			want = &w
		}
		expKeys, expVals = append(expKeys, k), append(expVals, want)
	}
	rec, err := s.queryRecord(ctx, "update", updateSQL, key, unixms.From(now), setKeys, setVals, del, incKeys, incDeltas,
		unixms.From(p.IdleDeadline), unixms.From(p.AuthenticatedAt), expKeys, expVals)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && (pe.Code == "22P02" || pe.Code == "22003"):
		return nil, tether.ErrNotInteger
	case errors.Is(err, tether.ErrNotFound) && len(p.Expect) > 0:
		// Nothing matched: a missing or expired record, or an Expect that
		// failed. Only this path pays a second statement to tell them apart.
		if _, rerr := s.queryRecord(ctx, "update", readSQL, key, unixms.From(now)); rerr == nil {
			return nil, tether.ErrConflict
		} else if !errors.Is(rerr, tether.ErrNotFound) {
			return nil, rerr
		}
	}
	return rec, err
}

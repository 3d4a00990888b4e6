// Package pgstore is a [tether.Store] in PostgreSQL, through pgx v5
// (pgxpool), for any number of server instances sharing sessions in a
// database they already run: the seed's "database sessions".
//
// # Opening
//
//	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	// store is a tether.Store, a tether.UserIndex and a tether.Pinger.
//
// New does the same on a *pgxpool.Pool the caller configured. Open and New
// apply the schema migrations embedded in the package (the tether_sessions
// table and its indexes, in the first schema of the search_path) in one
// transaction under an advisory lock, so instances that start together
// apply each migration once; a database migrated by a newer version of the
// package is refused with an error wrapping ErrNewerSchema. The database
// must use the UTF8 encoding.
//
// # Cost per request
//
// Every operation is one SQL statement, one round trip:
//
//   - Load is UPDATE … RETURNING inside a CTE that moves the idle deadline
//     of a live session only when it moves backwards or by at least
//     min(1 s, a tenth of the idle time left): a busy session is written
//     about once a second, and its other requests are a plain read through
//     the primary key that takes no row lock. An expired session is
//     returned unchanged (never extended) so the caller can tell which
//     deadline passed.
//   - Update merges the patch into the stored values inside one UPDATE
//     (json_each, json_object_agg): only the changed keys travel, and the
//     row lock is held for that statement only. A Patch.Expect
//     (compare-and-set) is part of the same statement's WHERE clause; only
//     when it fails does a second statement tell a conflict from a missing
//     session.
//   - Create is an INSERT, Delete a DELETE; a request without a valid
//     signed cookie costs none (the Manager never calls the store).
//
// # Guarantees
//
//   - No resurrection: Update changes a row only while it exists and is
//     live; it never inserts, so a request in flight during a logout or a
//     regeneration cannot bring the session back.
//   - No lost updates: concurrent Updates of one session queue on its row
//     lock and each is applied to the version the previous one committed,
//     so different keys are all kept and increments are exact over the
//     whole int64 range (200 concurrent increments add exactly 200).
//   - Compare-and-set: Patch.Expect is checked on the version the Update
//     writes. An Update that waited for a concurrent writer's row lock
//     checks it again, with the liveness test, on the version that writer
//     committed (READ COMMITTED's recheck of the row's conditions), so of
//     concurrent Updates that expect one value and replace it exactly one
//     applies and the others get [tether.ErrConflict]. The check is written
//     so that it stays a condition on the row: a NOT EXISTS would be
//     planned as an anti-join, whose other side that recheck does not read
//     again, so that every Expect would hold after a wait (see updateSQL in
//     update.go).
//   - Hashed keys: the key column is the Manager's store key (SHA-256 of the
//     token), so a dump of the table yields no usable cookie.
//   - Per-user index: user_id is an indexed column (a partial index on
//     authenticated sessions), so listing and revoking a user's sessions
//     cost O(sessions of that user), never a scan.
//
// # Expiry
//
// The sweeper finds expired rows through an index on expiry_slot, the idle
// deadline in 5-minute steps (a generated column), rather than on the idle
// deadline itself: refreshing the idle deadline then changes no indexed
// column except about once in 5 minutes of activity, so most updates of a
// busy session are HOT (no index entry written, the old row version pruned
// within its page; the table keeps 30 % of each page free for them).
//
// A background goroutine started by Open and New deletes expired rows every
// Options.SweepInterval (5 minutes by default), in batches of 500 rows, each
// its own statement that skips rows locked by requests (FOR UPDATE SKIP
// LOCKED), so it never holds many locks or holds them for long. Only one
// instance sweeps at a time: a sweep runs under pg_try_advisory_lock, and an
// instance that finds the lock taken skips its turn. Close stops it. The
// lock is session-level, held on one connection for the sweep: behind a
// pooler in transaction mode (PgBouncer's pool_mode=transaction), set
// Options.SweepInterval to -1 on all but one instance instead.
//
// # Values
//
// Values are kept as one JSON object in a json column, exactly as encoded
// (compacted). PostgreSQL's JSON functions refuse the escape \u0000, so a
// value holding U+0000 is refused by Create and Update with an error rather
// than stored.
//
// # Errors
//
// Failures to reach the database (no connection, a connection lost or a
// backend terminated, a timeout or a done context, a server shutting down
// or a read-only standby after a failover, a closed Store) wrap
// [tether.ErrStoreUnavailable], which the middleware answers with 503. pgx
// does not retry: the next request gets a fresh connection from the pool.
// Errors read "pgstore: OP: CAUSE" and never contain a store key, a session
// value or a password; PostgreSQL's messages are reduced to their primary
// text and SQLSTATE.
package pgstore

package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/sweeper"
	"github.com/tetherhq/tether/internal/unixms"
)

// DefaultSweepInterval is how often the sweeper deletes expired rows when
// Options.SweepInterval is zero.
const DefaultSweepInterval = 5 * time.Minute

// Options tune a Store. The zero value is the recommended configuration.
type Options struct {
	// SweepInterval is how often the background sweeper deletes expired
	// rows. Zero means DefaultSweepInterval (5 minutes); a negative value
	// disables the sweeper (call Sweep yourself, or let another instance
	// sweep).
	SweepInterval time.Duration
}

// Store is a [tether.Store], [tether.UserIndex] and [tether.Pinger] in
// PostgreSQL. Create one with Open or New and release it with Close. A
// Store is safe for concurrent use, and any number of Stores (processes)
// may share one database.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool

	closed    atomic.Bool
	sweeper   *sweeper.Loop // Sweep every Options.SweepInterval; stopped by Close
	closeOnce sync.Once
}

var (
	_ tether.Store     = (*Store)(nil)
	_ tether.UserIndex = (*Store)(nil)
	_ tether.Pinger    = (*Store)(nil)
)

// Open connects to the PostgreSQL server at url (a postgres:// URL or a
// key=value connection string, with pgxpool's pool_* parameters), checks
// that it answers, applies the migrations and starts the sweeper. The
// tables are created in the first schema of the connection's search_path.
// Close the Store to stop the sweeper and close the pool. Errors never
// contain url or any part of it but the server's address.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the URL (with the password masked);
		// quote nothing.
		return nil, errors.New("pgstore: open: not a valid PostgreSQL URL or connection string")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classify("open", err)
	}
	s, err := newStore(ctx, pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New uses the caller's pool, applies the migrations and starts the
// sweeper. Close leaves pool open: the caller closes it after the Store.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: new: nil *pgxpool.Pool")
	}
	return newStore(ctx, pool, false, opts)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, own bool, opts Options) (*Store, error) {
	var enc string
	if err := pool.QueryRow(ctx, `SHOW server_encoding`).Scan(&enc); err != nil {
		return nil, classify("open", err)
	}
	if enc != "UTF8" {
		return nil, fmt.Errorf("pgstore: open: the database encoding is %s; session values are JSON and need a UTF8 database", enc)
	}
	if err := migrate(ctx, pool); err != nil {
		if errors.Is(err, ErrNewerSchema) {
			return nil, err
		}
		return nil, classify("migrate", err)
	}
	s := &Store{pool: pool, ownPool: own, sweeper: sweeper.New()}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	// A failed sweep is retried at the next tick; meanwhile the rows it
	// missed are still expired for Load and Update, which compare
	// deadlines themselves.
	s.sweeper.Start(interval, func(ctx context.Context) { _, _ = s.Sweep(ctx) })
	return s, nil
}

// Close stops the sweeper, waiting for it to return, and closes the pool if
// Open opened it. Operations after Close fail with an error wrapping
// [tether.ErrStoreUnavailable]. Close is safe to call more than once and from
// several goroutines.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sweeper.Stop()
		if s.ownPool {
			s.pool.Close()
		}
	})
	return nil
}

// check returns the error of an operation on a closed Store.
func (s *Store) check(op string) error {
	if s.closed.Load() {
		return classify(op, errClosed)
	}
	return nil
}

// Ping implements [tether.Pinger]: it reports whether the sessions table
// can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check("ping"); err != nil {
		return err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM tether_sessions LIMIT 1) AS t`).Scan(&n); err != nil {
		return classify("ping", err)
	}
	return nil
}

// Create implements [tether.Store] with one INSERT. The stored idle
// deadline is capped at the absolute deadline.
func (s *Store) Create(ctx context.Context, key string, rec *tether.Record) error {
	if err := s.check("create"); err != nil {
		return err
	}
	if rec == nil {
		return errors.New("pgstore: create: nil record")
	}
	vals, err := encodeValues(rec.Values)
	if err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	idle := rec.IdleDeadline
	if rec.AbsoluteDeadline.Before(idle) {
		idle = rec.AbsoluteDeadline
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO tether_sessions
		(key, user_id, vals, created_at, authenticated_at, idle_deadline, absolute_deadline)
		VALUES ($1, $2, $3::text::json, $4, $5, $6, $7)`,
		key, rec.UserID, vals, unixms.From(rec.CreatedAt), unixms.From(rec.AuthenticatedAt), unixms.From(idle), unixms.From(rec.AbsoluteDeadline))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "tether_sessions_pkey" {
		return tether.ErrExists
	}
	return classify("create", err)
}

// Delete implements [tether.Store] with one DELETE; the per-user index is
// the row's own indexed column, so nothing else is left behind.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check("delete"); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM tether_sessions WHERE key = $1`, key)
	return classify("delete", err)
}

// queryRecord runs a statement that returns at most one record.
func (s *Store) queryRecord(ctx context.Context, op, sql string, args ...any) (*tether.Record, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	rec, err := scanRecord(s.pool.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tether.ErrNotFound
	}
	if err != nil {
		return nil, classify(op, err)
	}
	return rec, nil
}

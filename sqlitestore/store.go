package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/sqlitetx"
	"github.com/tetherhq/tether/internal/sweeper"
	"github.com/tetherhq/tether/internal/unixms"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultSweepInterval is how often the sweeper deletes expired rows when
// Options.SweepInterval is zero.
const DefaultSweepInterval = 5 * time.Minute

// readConns is how many connections Open's read pool may hold.
const readConns = 4

// Options tune a Store. The zero value is the recommended configuration.
type Options struct {
	// SweepInterval is how often the background sweeper deletes expired
	// rows. Zero means DefaultSweepInterval (5 minutes); a negative value
	// disables the sweeper (call Sweep yourself).
	SweepInterval time.Duration
}

// Store is a [tether.Store], [tether.UserIndex] and [tether.Pinger] in SQLite.
// Create one with Open or New and release it with Close. A Store is safe for
// concurrent use; see the package documentation for how writes are ordered.
type Store struct {
	// wdb runs the writes (every statement but ListUser and Ping), one at
	// a time under the write slot; rdb runs the reads. Open makes wdb a
	// pool of one connection, so that its page cache stays valid between
	// writes, and rdb a small read-only pool. New uses the caller's pool
	// for both.
	wdb, rdb *sql.DB
	ownDB    bool

	// write is the write slot: a one-place semaphore held for each write.
	write chan struct{}

	closed    atomic.Bool
	sweeper   *sweeper.Loop // Sweep every Options.SweepInterval; stopped by Close
	closeOnce sync.Once
	closeErr  error
}

var (
	_ tether.Store     = (*Store)(nil)
	_ tether.UserIndex = (*Store)(nil)
	_ tether.Pinger    = (*Store)(nil)
)

// DSN returns the modernc.org/sqlite data source name for the database file
// at path that Open uses and New expects:
//
//	file:PATH?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate
//
// that is: wait up to 5 s for another connection's write lock instead of
// failing at once, write-ahead logging (readers never block the writer),
// fsync only at checkpoints, and transactions begun with BEGIN IMMEDIATE (a
// transaction that will write takes the write lock when it starts, so it
// cannot fail half-way to upgrade). Characters of path that mean something
// in a URI are escaped.
func DSN(path string) string {
	return "file:" + uriPath(path) +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// uriPath escapes a file path for the path part of an SQLite URI.
func uriPath(path string) string {
	p := filepath.ToSlash(path)
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	switch {
	case filepath.VolumeName(path) != "": // C:/x becomes /C:/x
		p = "/" + p
	case strings.HasPrefix(p, "//"): // not an authority: an empty one, then the path
		p = "//" + p
	}
	return p
}

// Open opens the SQLite database file at path, creating it if needed, with
// the parameters of DSN, applies the migrations and starts the sweeper.
// path is a file path, not a URI; an in-memory database is not supported
// (use memstore). Close the Store to stop the sweeper and close the file.
//
// Open makes two pools on the file: one connection for the Store's writes
// (queued in the Store, so they never contend with each other in SQLite)
// and up to 4 read-only connections for ListUser and Ping.
func Open(path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, errors.New("sqlitestore: open: want the path of a database file (for an in-memory store use memstore; for a DSN use New)")
	}
	wdb, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	rdb, err := sql.Open("sqlite", DSN(path)+"&_query_only=1")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	rdb.SetMaxOpenConns(readConns)
	for _, db := range []*sql.DB{wdb, rdb} {
		db.SetMaxIdleConns(readConns)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	s, err := newStore(wdb, rdb, true, opts)
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	return s, nil
}

// New uses db, applies the migrations and starts the sweeper. Open db with
// the parameters DSN documents (DSN builds them): New fails if busy_timeout
// is 0, because writers in other pools or processes would then fail at once
// instead of waiting their turn. WAL and synchronous=NORMAL are recommended,
// not checked. The Store's writes still go one at a time through its write
// slot. New does not change db's pool settings; a pool of one connection
// (db.SetMaxOpenConns(1)) is fastest for the writes, since SQLite discards a
// connection's page cache whenever another connection has written. Close
// leaves db open: the caller closes it after the Store.
func New(db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: new: nil *sql.DB")
	}
	var timeout int64
	if err := db.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil {
		return nil, fmt.Errorf("sqlitestore: new: %w", classify(err))
	}
	if timeout <= 0 {
		return nil, errors.New("sqlitestore: new: busy_timeout is 0; open the database with sqlitestore.DSN(path) or set _pragma=busy_timeout(5000)")
	}
	s, err := newStore(db, db, false, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: new: %w", err)
	}
	return s, nil
}

func newStore(wdb, rdb *sql.DB, own bool, opts Options) (*Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := migrate(ctx, wdb, migrationFiles); err != nil {
		return nil, err
	}
	s := &Store{
		sweeper: sweeper.New(),
		wdb:     wdb,
		rdb:     rdb,
		ownDB:   own,
		write:   make(chan struct{}, 1),
	}
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

// Close stops the sweeper, waiting for it to return, and closes the pools
// if Open opened them. Operations after Close fail with an error wrapping
// [tether.ErrStoreUnavailable]. Close is safe to call more than once and from
// several goroutines; every call returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sweeper.Stop()
		if s.ownDB {
			s.closeErr = errors.Join(s.wdb.Close(), s.rdb.Close())
		}
	})
	return s.closeErr
}

// Ping implements [tether.Pinger]: it reports whether the sessions table can
// be read and the write connection answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlitestore: ping: %w", errClosed)
	}
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM tether_sessions LIMIT 1)`).Scan(&n)
	if err == nil {
		err = s.wdb.PingContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", classify(err))
	}
	return nil
}

// Create implements [tether.Store]. The stored idle deadline is capped at the
// absolute deadline.
func (s *Store) Create(ctx context.Context, key string, rec *tether.Record) error {
	if rec == nil {
		return errors.New("sqlitestore: create: nil record")
	}
	vals, err := encodeValues(rec.Values)
	if err != nil {
		return fmt.Errorf("sqlitestore: create: %w", err)
	}
	idle := rec.IdleDeadline
	if rec.AbsoluteDeadline.Before(idle) {
		idle = rec.AbsoluteDeadline
	}
	err = s.exclusive(ctx, func() error {
		_, err := s.wdb.ExecContext(ctx, `INSERT INTO tether_sessions
			(key, user_id, vals, created_at, authenticated_at, idle_deadline, absolute_deadline)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			key, rec.UserID, vals, unixms.From(rec.CreatedAt), unixms.From(rec.AuthenticatedAt), unixms.From(idle), unixms.From(rec.AbsoluteDeadline))
		return err
	})
	switch {
	case err == nil:
		return nil
	case isPrimaryKeyConflict(err):
		return tether.ErrExists
	default:
		return fmt.Errorf("sqlitestore: create: %w", classify(err))
	}
}

// loadSQL is Load's single statement. A live row (?2 before both deadlines)
// gets the idle deadline ?1 capped at its absolute deadline; an expired row
// keeps its deadline, so it is returned as it was. ?1 = 0 (a zero
// idleDeadline) moves nothing, as in [tether.Patch].
const loadSQL = `UPDATE tether_sessions
	SET idle_deadline = CASE
		WHEN ?1 <> 0 AND idle_deadline > ?2 AND absolute_deadline > ?2 THEN min(?1, absolute_deadline)
		ELSE idle_deadline END
	WHERE key = ?3
	RETURNING ` + recordColumns

// Load implements [tether.Store] in one statement: it moves the idle deadline
// of a live record and returns an expired record unchanged (the sweeper
// deletes it later).
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	var rec *tether.Record
	err := s.exclusive(ctx, func() error {
		var err error
		rec, err = scanRecord(s.wdb.QueryRowContext(ctx, loadSQL, unixms.From(idleDeadline), unixms.From(now), key))
		return err
	})
	switch {
	case err == nil:
		return rec, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, tether.ErrNotFound
	default:
		return nil, fmt.Errorf("sqlitestore: load: %w", classify(err))
	}
}

// Update implements [tether.Store]: it reads the record, applies p with
// [tether.Patch.Apply] and writes it back in one BEGIN IMMEDIATE transaction,
// only if the record exists and is live at now.
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	var rec *tether.Record
	err := s.exclusive(ctx, func() error {
		return sqlitetx.Immediate(ctx, s.wdb, func(c *sql.Conn) error {
			r, err := scanRecord(c.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM tether_sessions WHERE key = ?`, key))
			if errors.Is(err, sql.ErrNoRows) {
				return tether.ErrNotFound
			}
			if err != nil {
				return err
			}
			if expired, _ := r.ExpiredAt(now); expired {
				return tether.ErrNotFound
			}
			if err := p.Apply(r); err != nil {
				return err
			}
			if !p.Empty() {
				vals, err := encodeValues(r.Values)
				if err != nil {
					return err
				}
				if _, err := c.ExecContext(ctx, `UPDATE tether_sessions
					SET vals = ?, authenticated_at = ?, idle_deadline = ? WHERE key = ?`,
					vals, unixms.From(r.AuthenticatedAt), unixms.From(r.IdleDeadline), key); err != nil {
					return err
				}
			}
			rec = r
			return nil
		})
	})
	switch {
	case err == nil:
		return rec, nil
	case errors.Is(err, tether.ErrNotFound), errors.Is(err, tether.ErrNotInteger), errors.Is(err, tether.ErrConflict):
		return nil, err
	default:
		return nil, fmt.Errorf("sqlitestore: update: %w", classify(err))
	}
}

// Delete implements [tether.Store].
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.exclusive(ctx, func() error {
		_, err := s.wdb.ExecContext(ctx, `DELETE FROM tether_sessions WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", classify(err))
	}
	return nil
}

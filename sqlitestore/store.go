// Package sqlitestore is the embedded tether.Store: sessions in an SQLite file
// through modernc.org/sqlite (pure Go, no cgo). It is the reference server's
// default store; sessions survive a restart. One file serves one instance:
// for several instances use redisstore.
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	if err != nil { … }
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: secrets})
//
// The database runs in WAL mode with synchronous=NORMAL: a crash of the
// process loses nothing, a power failure may lose the last transactions
// (sessions, not money). Migrations are embedded and applied by Open.
//
// Concurrency: every statement goes through one connection, so SQLite never
// answers "database is locked" to its own writers, and each Update is a
// read-modify-write inside one transaction: concurrent changes of different
// keys and concurrent increments are never lost. Load is a single UPDATE …
// RETURNING that refreshes the idle deadline of a live record and leaves an
// expired one as it was. A background sweeper deletes expired rows.
//
// A Store is safe for concurrent use.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/tetherhq/tether"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultSweepInterval is how often expired rows are deleted by default.
const DefaultSweepInterval = 5 * time.Minute

// Options tune a Store. The zero value is the recommended configuration.
type Options struct {
	// SweepInterval is how often expired rows are deleted. Default 5 minutes;
	// a negative value disables the sweeper (call Sweep yourself).
	SweepInterval time.Duration
}

// Store is a tether.Store in SQLite. Create it with Open or New.
type Store struct {
	db      *sql.DB
	ownDB   bool
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

var (
	_ tether.Store     = (*Store)(nil)
	_ tether.Pinger    = (*Store)(nil)
	_ tether.UserIndex = (*Store)(nil)
)

// DSN returns the modernc.org/sqlite data source name New expects for the file
// at path: WAL journal, synchronous=NORMAL, a 10 s busy timeout (other
// programs on the same file, such as the admin CLI, queue instead of failing)
// and IMMEDIATE transactions.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens, creating if needed, the database file at path, applies the
// migrations and starts the sweeper. Close the Store when done.
func Open(path string, opts Options) (*Store, error) {
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s, err := newStore(db, opts, true)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// New uses db, which should be opened with DSN, applies the migrations and
// starts the sweeper. New limits db to one open connection (see the package
// doc). Close stops the sweeper but leaves db open.
func New(db *sql.DB, opts Options) (*Store, error) {
	return newStore(db, opts, false)
}

func newStore(db *sql.DB, opts Options, own bool) (*Store, error) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	s := &Store{db: db, ownDB: own, stop: make(chan struct{}), stopped: make(chan struct{})}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		go s.sweepLoop(interval)
	} else {
		close(s.stopped)
	}
	return s, nil
}

// Close stops the sweeper and, for a Store made by Open, closes the database.
// It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.stopped
		if s.ownDB {
			err = s.db.Close()
		}
	})
	return err
}

// Ping implements tether.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", wrap(err))
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// wrap marks failures to reach the database as tether.ErrStoreUnavailable.
func wrap(err error) error {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || err.Error() == "sql: database is closed" {
		return fmt.Errorf("%w: %w", tether.ErrStoreUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_IOERR ||
		se.Code()&0xff == sqlite3.SQLITE_FULL || se.Code()&0xff == sqlite3.SQLITE_CANTOPEN) {
		return fmt.Errorf("%w: %w", tether.ErrStoreUnavailable, err)
	}
	return err
}

// Create implements tether.Store.
func (s *Store) Create(ctx context.Context, key string, rec *tether.Record) error {
	vals, err := json.Marshal(nonNil(rec.Values))
	if err != nil {
		return fmt.Errorf("sqlitestore: create: encode values: %w", err)
	}
	idle := rec.IdleDeadline
	if rec.AbsoluteDeadline.Before(idle) {
		idle = rec.AbsoluteDeadline
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO tether_sessions
		(key, user_id, vals, created_at, authenticated_at, idle_deadline, absolute_deadline)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		key, rec.UserID, string(vals), ms(rec.CreatedAt), ms(rec.AuthenticatedAt), ms(idle), ms(rec.AbsoluteDeadline))
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return tether.ErrExists
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create: %w", wrap(err))
	}
	return nil
}

func nonNil(v map[string]json.RawMessage) map[string]json.RawMessage {
	if v == nil {
		return map[string]json.RawMessage{}
	}
	return v
}

const recordCols = `user_id, vals, created_at, authenticated_at, idle_deadline, absolute_deadline`

func scanRecord(row interface{ Scan(...any) error }) (*tether.Record, error) {
	var rec tether.Record
	var vals string
	var created, authed, idle, abs int64
	if err := row.Scan(&rec.UserID, &vals, &created, &authed, &idle, &abs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(vals), &rec.Values); err != nil {
		return nil, fmt.Errorf("corrupt values: %w", err)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	rec.CreatedAt, rec.AuthenticatedAt = fromMS(created), fromMS(authed)
	rec.IdleDeadline, rec.AbsoluteDeadline = fromMS(idle), fromMS(abs)
	return &rec, nil
}

// Load implements tether.Store in one statement.
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	n := ms(now)
	rec, err := scanRecord(s.db.QueryRowContext(ctx, `UPDATE tether_sessions
		SET idle_deadline = CASE WHEN idle_deadline > ? AND absolute_deadline > ?
			THEN min(?, absolute_deadline) ELSE idle_deadline END
		WHERE key = ?
		RETURNING `+recordCols, n, n, ms(idleDeadline), key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tether.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: load: %w", wrap(err))
	}
	return rec, nil
}

// Update implements tether.Store: a read-modify-write in one transaction,
// only while the record exists and is live.
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: update: %w", wrap(err))
	}
	defer tx.Rollback()
	rec, err := scanRecord(tx.QueryRowContext(ctx, `SELECT `+recordCols+` FROM tether_sessions WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tether.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: update: %w", wrap(err))
	}
	if expired, _ := rec.ExpiredAt(now); expired {
		return nil, tether.ErrNotFound
	}
	if err := p.Apply(rec); err != nil {
		return nil, err
	}
	vals, err := json.Marshal(rec.Values)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: update: encode values: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tether_sessions SET vals = ?, authenticated_at = ?, idle_deadline = ? WHERE key = ?`,
		string(vals), ms(rec.AuthenticatedAt), ms(rec.IdleDeadline), key); err != nil {
		return nil, fmt.Errorf("sqlitestore: update: %w", wrap(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlitestore: update: %w", wrap(err))
	}
	return rec, nil
}

// Delete implements tether.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM tether_sessions WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", wrap(err))
	}
	return nil
}

// ListUser implements tether.UserIndex through the user_id index.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	n := ms(now)
	rows, err := s.db.QueryContext(ctx, `SELECT key, `+recordCols+` FROM tether_sessions
		WHERE user_id = ? AND user_id <> '' AND idle_deadline > ? AND absolute_deadline > ?`, userID, n, n)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", wrap(err))
	}
	defer rows.Close()
	out := map[string]*tether.Record{}
	for rows.Next() {
		var key string
		rec, err := scanRecord(scanFunc(func(dst ...any) error { return rows.Scan(append([]any{&key}, dst...)...) }))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list user: %w", err)
		}
		out[key] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", wrap(err))
	}
	return out, nil
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// DeleteUser implements tether.UserIndex.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tether_sessions WHERE user_id = ? AND user_id <> ''`, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user: %w", wrap(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

package users

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/tetherhq/tether/internal/sqlmigrate"
	"github.com/tetherhq/tether/passwords"
	"github.com/tetherhq/tether/sqlitestore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// schemaTable records the applied migrations; it is this package's own, so
// the session store's migrations in the same file do not interfere.
const schemaTable = "tether_users_schema"

// maxOpenConns bounds the connections to the database file. Logins first
// read one row, then wait for a hashing slot, so a flood queues here and in
// the Hasher rather than opening connections without limit.
const maxOpenConns = 8

// SQLite is a Directory in an SQLite database file, opened with the same
// settings as the session store (sqlitestore.DSN: WAL, a busy timeout so
// the admin CLI and the server share the file, immediate transactions). It
// is safe for concurrent use; writes from several processes are serialised
// by SQLite.
type SQLite struct {
	db     *sql.DB
	hasher *passwords.Hasher
}

var _ Directory = (*SQLite)(nil)

// Open opens, creating if needed, the user directory in the SQLite file at
// path (the directory holding it must exist), applies its migrations and
// counts the parameters of up to 1000 stored hashes for h's dummy work
// (passwords.Hasher.CountStored). Passwords are hashed and verified with h;
// nil means passwords.NewHasher(). Share one Hasher per process so its
// concurrency bound is global. Close the SQLite when done.
func Open(path string, h *passwords.Hasher) (*SQLite, error) {
	if h == nil {
		h = passwords.NewHasher()
	}
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		return nil, fmt.Errorf("users: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, err
	}
	if err := countSQLite(context.Background(), db, h); err != nil {
		db.Close()
		return nil, err
	}
	return &SQLite{db: db, hasher: h}, nil
}

// migrate applies the user directory's migrations with sqlmigrate.Apply (one
// BEGIN IMMEDIATE transaction, so the server and the admin CLI opening a new
// file at once apply each migration once) and its own version table. A
// newer schema is refused with an error wrapping sqlmigrate.ErrNewerSchema.
func migrate(ctx context.Context, db *sql.DB) error {
	err := sqlmigrate.Apply(ctx, db, migrations, "migrations", schemaTable)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sqlmigrate.ErrNewerSchema):
		return fmt.Errorf("users: %w; run a newer tether", err)
	default:
		return fmt.Errorf("users: migrate: %w", err)
	}
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Add creates a user with a fresh Argon2id hash of password.
func (s *SQLite) Add(ctx context.Context, username, password, role string) (User, error) {
	if !ValidUsername(username) {
		return User{}, ErrInvalidUsername
	}
	if !ValidRole(role) {
		return User{}, ErrInvalidRole
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var seq int64
	err = s.db.QueryRowContext(ctx,
		`INSERT INTO tether_users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING seq`,
		username, role, hash, now.UnixMilli()).Scan(&seq)
	if isUniqueViolation(err) {
		return User{}, ErrUserExists
	}
	if err != nil {
		return User{}, fmt.Errorf("users: add: %w", err)
	}
	return User{ID: userID(seq), Username: username, Role: role, CreatedAt: now, PasswordHash: hash}, nil
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

const userCols = `seq, username, role, password_hash, disabled, created_at, generation`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var seq, created int64
	if err := row.Scan(&seq, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &created, &u.Generation); err != nil {
		return User{}, err
	}
	u.ID = userID(seq)
	u.CreatedAt = time.UnixMilli(created).UTC()
	return u, nil
}

// Get returns the user named username (case-insensitively), or ErrNotFound.
// A name that is not a valid user name gives ErrInvalidUsername.
func (s *SQLite) Get(ctx context.Context, username string) (User, error) {
	if !ValidUsername(username) {
		return User{}, ErrInvalidUsername
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM tether_users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("users: get: %w", err)
	}
	return u, nil
}

// List returns every user, oldest first.
func (s *SQLite) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM tether_users ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: list: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	return out, nil
}

// update runs UPDATE tether_users SET set WHERE username = ? with args
// before the name, and maps "no row" to ErrNotFound. set is a trusted SQL
// fragment, never input.
func (s *SQLite) update(ctx context.Context, what, set string, username string, args ...any) error {
	if !ValidUsername(username) {
		return ErrInvalidUsername
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tether_users SET `+set+` WHERE username = ?`, append(args, username)...)
	if err != nil {
		return fmt.Errorf("users: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("users: %s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPassword replaces the user's password hash and raises its generation,
// in one statement.
func (s *SQLite) SetPassword(ctx context.Context, username, password string) error {
	if !ValidUsername(username) {
		return ErrInvalidUsername
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.update(ctx, "set password", `password_hash = ?, `+raiseGeneration, username, hash)
}

// SetDisabled disables or re-enables the user; disabling raises its
// generation in the same statement.
func (s *SQLite) SetDisabled(ctx context.Context, username string, disabled bool) error {
	if disabled {
		return s.update(ctx, "set disabled", `disabled = 1, `+raiseGeneration, username)
	}
	return s.update(ctx, "set disabled", `disabled = 0`, username)
}

// RaiseGeneration raises the user's generation.
func (s *SQLite) RaiseGeneration(ctx context.Context, username string) error {
	return s.update(ctx, "raise generation", raiseGeneration, username)
}

// RaiseAllGenerations raises every user's generation in one statement.
func (s *SQLite) RaiseAllGenerations(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE tether_users SET `+raiseGeneration)
	if err != nil {
		return 0, fmt.Errorf("users: raise all generations: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("users: raise all generations: %w", err)
	}
	return int(n), nil
}

// SetRole changes the user's role.
func (s *SQLite) SetRole(ctx context.Context, username, role string) error {
	if !ValidRole(role) {
		return ErrInvalidRole
	}
	return s.update(ctx, "set role", `role = ?`, username, role)
}

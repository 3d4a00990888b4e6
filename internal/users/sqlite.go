package users

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/tetherhq/tether/internal/passwords"
	"github.com/tetherhq/tether/internal/sqlmigrate"
	"github.com/tetherhq/tether/sqlitestore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is a Directory in an SQLite file (the server's DATA_DIR/tether.db,
// shared with the session store; tables are prefixed tether_).
type SQLite struct {
	db     *sql.DB
	hasher *passwords.Hasher
}

var _ Directory = (*SQLite)(nil)

// Open opens (creating if needed) the user directory in the SQLite file at
// path and applies its migrations.
func Open(path string, h *passwords.Hasher) (*SQLite, error) {
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		return nil, fmt.Errorf("users: open %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, err
	}
	return &SQLite{db: db, hasher: h}, nil
}

// migrate applies the embedded migrations, recording them in
// tether_users_schema.
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlmigrate.Apply(ctx, db, migrations, "migrations", "tether_users_schema", "users")
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Add creates a user with a fresh Argon2id hash of password.
func (s *SQLite) Add(ctx context.Context, username, password, role string) (User, error) {
	if !ValidUsername(username) {
		return User{}, ErrInvalidUsername
	}
	if !validRole(role) {
		return User{}, ErrInvalidRole
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := time.Now().UTC()
	var seq int64
	err = s.db.QueryRowContext(ctx,
		`INSERT INTO tether_users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING seq`,
		username, role, hash, now.UnixMilli()).Scan(&seq)
	if isUnique(err) {
		return User{}, ErrUserExists
	}
	if err != nil {
		return User{}, fmt.Errorf("users: add: %w", err)
	}
	return User{ID: userID(seq), Username: username, Role: role, CreatedAt: now.Truncate(time.Millisecond), PasswordHash: hash}, nil
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

const userCols = `seq, username, role, password_hash, disabled, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var seq, created int64
	if err := row.Scan(&seq, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &created); err != nil {
		return User{}, err
	}
	u.ID = userID(seq)
	u.CreatedAt = time.UnixMilli(created).UTC()
	return u, nil
}

// Get returns the user named username (case-insensitively), or ErrNotFound.
func (s *SQLite) Get(ctx context.Context, username string) (User, error) {
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
	return out, rows.Err()
}

// update runs an UPDATE on one user and maps "no row" to ErrNotFound.
func (s *SQLite) update(ctx context.Context, what, set string, arg any, username string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tether_users SET `+set+` = ? WHERE username = ?`, arg, username)
	if err != nil {
		return fmt.Errorf("users: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPassword replaces the user's password hash.
func (s *SQLite) SetPassword(ctx context.Context, username, password string) error {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.update(ctx, "set password", "password_hash", hash, username)
}

// SetDisabled disables or enables the user.
func (s *SQLite) SetDisabled(ctx context.Context, username string, disabled bool) error {
	return s.update(ctx, "set disabled", "disabled", disabled, username)
}

// SetRole changes the user's role.
func (s *SQLite) SetRole(ctx context.Context, username, role string) error {
	if !validRole(role) {
		return ErrInvalidRole
	}
	return s.update(ctx, "set role", "role", role, username)
}

// Authenticate checks username and password. An unknown user, a wrong
// password and a disabled account all return ErrInvalidCredentials after one
// Argon2id computation. A hash made with other parameters than the current
// ones is replaced after a successful check.
func (s *SQLite) Authenticate(ctx context.Context, username, password string) (User, error) {
	u, err := s.Get(ctx, username)
	if errors.Is(err, ErrNotFound) || (err == nil && !ValidUsername(username)) {
		if derr := s.hasher.Dummy(ctx, password); derr != nil {
			return User{}, derr
		}
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, err
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, passwords.ErrMalformedHash) {
		// A corrupted hash fails closed, like a wrong password.
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, err
	}
	if !ok || u.Disabled {
		return User{}, ErrInvalidCredentials
	}
	if rehash {
		if hash, err := s.hasher.Hash(ctx, password); err == nil {
			if err := s.update(ctx, "rehash", "password_hash", hash, u.Username); err == nil {
				u.PasswordHash = hash
			}
		}
	}
	return u, nil
}

// Package users is the reference server's user directory: user names, roles,
// a disabled flag and Argon2id password hashes (package passwords).
//
// IDs are "user-" followed by a sequence number that starts at 1001, so the
// first user is "user-1001" (as in the tutorial's walkthrough) and an ID is
// never reused. User names are 1-64 characters of A-Z a-z 0-9 . _ @ - and
// unique regardless of case ("Alice" and "alice" are one user).
//
// Threat model: an attacker who can try logins must learn nothing about
// which user names exist. Authenticate answers an unknown user, a wrong
// password and a disabled account with the same error, ErrInvalidCredentials,
// after the same hashing work (one Argon2id verification with the current
// parameters; package passwords' Dummy for an unknown user). A stolen
// database yields only Argon2id hashes. Passwords are never stored, logged
// or put in an error.
//
// The SQLite implementation lives in the server's database file
// (DATA_DIR/tether.db, beside the session store; its tables are prefixed
// tether_ and its schema version is kept in tether_users_schema), so one file
// holds an instance's state. A PostgreSQL Directory can implement the same
// interface for several instances.
package users

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Roles.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// MaxUsernameLen is the longest user name, in bytes.
const MaxUsernameLen = 64

// Errors. Password errors come from package passwords
// (passwords.ErrPasswordTooShort, passwords.ErrPasswordTooLong).
var (
	// ErrInvalidCredentials is Authenticate's only answer to a failed login,
	// whatever the reason.
	ErrInvalidCredentials = errors.New("users: invalid credentials")
	ErrUserExists         = errors.New("users: a user with that name already exists")
	ErrNotFound           = errors.New("users: no such user")
	ErrInvalidUsername    = fmt.Errorf("users: a user name is 1-%d characters of A-Z a-z 0-9 . _ @ -", MaxUsernameLen)
	ErrInvalidRole        = errors.New(`users: a role is "user" or "admin"`)
)

// User is an account. PasswordHash is a PHC string (package passwords); it
// is not marshalled to JSON and must never leave the server.
type User struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	Role         string    `json:"role"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"createdAt"`
	PasswordHash string    `json:"-"`
	// Generation is the account's credential generation: 0 for a new
	// account, raised by one in the same UPDATE that changes the password
	// or disables the account, and by RaiseGeneration and
	// RaiseAllGenerations. A session remembers the generation its login
	// read (with the hash it verified, in one row) and is refused once the
	// account's differs (issue 11 row 3). It is bookkeeping, not shown.
	Generation int64 `json:"-"`
}

// Directory stores users. Implementations are safe for concurrent use and
// take user names case-insensitively.
type Directory interface {
	// Add creates a user with role RoleUser or RoleAdmin and a hash of
	// password. It fails with ErrInvalidUsername, ErrInvalidRole, a
	// passwords length error, or ErrUserExists.
	Add(ctx context.Context, username, password, role string) (User, error)
	// Get returns the user, or ErrNotFound.
	Get(ctx context.Context, username string) (User, error)
	// List returns every user, oldest first.
	List(ctx context.Context) ([]User, error)
	// SetPassword stores a hash of a new password and raises the user's
	// Generation in the same statement, or fails with ErrNotFound or a
	// passwords length error. Ending the user's sessions is the caller's
	// job, after SetPassword returns (raise first, then revoke: see
	// Generation).
	SetPassword(ctx context.Context, username, password string) error
	// SetDisabled disables or re-enables the user; a disabled user cannot
	// authenticate. Disabling raises the user's Generation in the same
	// statement; re-enabling does not. Ending the user's sessions is the
	// caller's job, after SetDisabled returns.
	SetDisabled(ctx context.Context, username string, disabled bool) error
	// RaiseGeneration raises the user's Generation, or fails with
	// ErrNotFound: every session authenticated before it is refused at its
	// next account check. Call it before ending all of a user's sessions.
	RaiseGeneration(ctx context.Context, username string) error
	// RaiseAllGenerations raises every user's Generation in one statement
	// and returns how many users it changed: the first step of a
	// revoke-everything (ASVS 7.4.5).
	RaiseAllGenerations(ctx context.Context) (int, error)
	// SetRole changes the user's role.
	SetRole(ctx context.Context, username, role string) error
	// Authenticate returns the user whose name and password match and who
	// is not disabled. Every failed login returns ErrInvalidCredentials
	// after the same hashing work; other errors mean the directory or the
	// context failed (the caller should answer 503, not 401). A hash with
	// outdated parameters is replaced after a successful check. The
	// returned User's Generation was read in the same row, by the same
	// statement, as the hash that was verified.
	Authenticate(ctx context.Context, username, password string) (User, error)
	// Ping reports whether the directory's storage answers.
	Ping(ctx context.Context) error
	// Close releases the directory's resources.
	Close() error
}

// ValidUsername reports whether name is 1-64 characters of A-Z a-z 0-9 . _ @ -.
func ValidUsername(name string) bool {
	if len(name) < 1 || len(name) > MaxUsernameLen {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// ValidRole reports whether role is RoleUser or RoleAdmin.
func ValidRole(role string) bool { return role == RoleUser || role == RoleAdmin }

func userID(seq int64) string { return fmt.Sprintf("user-%d", seq) }

// raiseGeneration is the SET clause, the same in SQLite and PostgreSQL, that
// raises a user's credential generation (User.Generation).
const raiseGeneration = `generation = generation + 1`

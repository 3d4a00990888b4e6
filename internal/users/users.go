// Package users is the reference server's user directory: user names, roles
// and Argon2id password hashes (package passwords).
//
// Authenticate answers an unknown user, a wrong password and a disabled
// account with the same error after the same amount of hashing work, so
// neither the answer nor its timing tells an attacker which user names exist.
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

// Errors.
var (
	ErrInvalidCredentials = errors.New("users: invalid credentials")
	ErrUserExists         = errors.New("users: user already exists")
	ErrNotFound           = errors.New("users: no such user")
	ErrInvalidUsername    = errors.New("users: user names are 1-64 characters of A-Z a-z 0-9 . _ @ -")
	ErrInvalidRole        = errors.New("users: role must be user or admin")
)

// User is an account. PasswordHash is a PHC string and never leaves the
// server.
type User struct {
	ID           string
	Username     string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	PasswordHash string `json:"-"`
}

// Directory stores users. Implementations are safe for concurrent use.
type Directory interface {
	Add(ctx context.Context, username, password, role string) (User, error)
	Get(ctx context.Context, username string) (User, error)
	List(ctx context.Context) ([]User, error)
	SetPassword(ctx context.Context, username, password string) error
	SetDisabled(ctx context.Context, username string, disabled bool) error
	SetRole(ctx context.Context, username, role string) error
	Authenticate(ctx context.Context, username, password string) (User, error)
	Ping(ctx context.Context) error
	Close() error
}

// ValidUsername reports whether name is 1-64 characters of A-Z a-z 0-9 . _ @ -.
func ValidUsername(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

func validRole(role string) bool { return role == RoleUser || role == RoleAdmin }

func userID(seq int64) string { return fmt.Sprintf("user-%d", seq) }

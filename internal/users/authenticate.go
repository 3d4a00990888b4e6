package users

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetherhq/tether/passwords"
)

// Authenticate checks username and password. An invalid user name, an
// unknown user, a wrong password, a disabled account and a corrupted stored
// hash all return ErrInvalidCredentials after one Argon2id verification
// with the current parameters (or the stored hash's). Other errors mean the
// database or ctx failed.
//
// The user returned carries the Generation read in the same row, by the
// same SELECT, as the hash that was verified: a password change or a
// disable that lands after that read raised the generation beyond it, so a
// session created from this login is refused at its first account check
// (issue 11 row 3). A rehash below leaves the generation as it is.
//
// After a successful check, a hash made with parameters other than the
// Hasher's is replaced by a fresh one; the replacement is conditional on the
// stored hash being unchanged, so a password change that lands meanwhile is
// never overwritten with the old password. A failed rehash does not fail the
// login: the next login tries again.
func (s *SQLite) Authenticate(ctx context.Context, username, password string) (User, error) {
	return authenticate(ctx, s.hasher, s.Get, s.replaceHash, username, password)
}

// authenticate is Authenticate for every Directory: get reads a user,
// replaceHash swaps a hash conditionally.
func authenticate(ctx context.Context, h *passwords.Hasher, get func(context.Context, string) (User, error),
	replaceHash func(ctx context.Context, id, oldHash, newHash string) error, username, password string) (User, error) {
	if !ValidUsername(username) {
		return User{}, fail(ctx, h, password)
	}
	u, err := get(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return User{}, fail(ctx, h, password)
	}
	if err != nil {
		return User{}, err
	}
	ok, rehash, err := h.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, passwords.ErrMalformedHash) {
		// A corrupted row fails closed, after the same work as any failure.
		return User{}, fail(ctx, h, password)
	}
	if err != nil {
		return User{}, err
	}
	if !ok || u.Disabled {
		return User{}, ErrInvalidCredentials
	}
	if rehash {
		if hash, err := h.Hash(ctx, password); err == nil {
			if replaceHash(ctx, u.ID, u.PasswordHash, hash) == nil {
				u.PasswordHash = hash
			}
		}
	}
	return u, nil
}

// fail spends the work of one verification and returns
// ErrInvalidCredentials, or the context's error if it ended meanwhile.
func fail(ctx context.Context, h *passwords.Hasher, password string) error {
	if err := h.Dummy(ctx, password); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// errHashChanged reports that replaceHash found another hash than expected.
var errHashChanged = errors.New("users: the stored hash changed meanwhile")

// replaceHash stores newHash for the user with ID id only if its hash is
// still oldHash.
func (s *SQLite) replaceHash(ctx context.Context, id, oldHash, newHash string) error {
	var seq int64
	if _, err := fmt.Sscanf(id, "user-%d", &seq); err != nil {
		return fmt.Errorf("users: rehash: bad id %q", id)
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE tether_users SET password_hash = ? WHERE seq = ? AND password_hash = ?`, newHash, seq, oldHash)
	if err != nil {
		return fmt.Errorf("users: rehash: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errHashChanged
	}
	return nil
}

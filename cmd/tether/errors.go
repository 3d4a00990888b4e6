package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/passwords"
)

// The CLI prints each failure as one sentence after "tether: ": what went
// wrong, what to do, and the underlying cause as the system said it, never
// as a chain of package prefixes ("users: migrate: …") and never with a
// password or a URL's credentials.

// cause is the innermost error of err's chain: the system's own words
// ("connection refused", "WRONGPASS …", "x509: certificate signed by
// unknown authority") without the layers wrapped around them. Of an error
// that wraps several (fmt.Errorf with two %w), the last is followed: tether
// and its stores put the category (ErrStoreUnavailable) first and the
// cause last. A deadline reads "no answer in time".
func cause(err error) string {
	if err == nil {
		return ""
	}
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[len(errs)-1]
			}
		}
		if next == nil {
			break
		}
		err = next
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return strings.TrimSuffix(stripPrefixes(err.Error()), ".")
}

// pkgPrefix matches the package prefixes Go errors carry ("users: ",
// "redisstore: ping: "…) at the start of a message or of a wrapped part.
var pkgPrefix = regexp.MustCompile(`(^|: )(?:tether|users|passwords|redisstore|sqlitestore|pgstore|sqlmigrate|metrics|audit|config): `)

// stripPrefixes removes package prefixes from msg; the words after them
// stay.
func stripPrefixes(msg string) string {
	for {
		out := pkgPrefix.ReplaceAllString(msg, "$1")
		if out == msg {
			return out
		}
		msg = out
	}
}

// passwordErr words a password the directory refused, for the command
// cmd ("user add" or "user passwd"); other errors pass through.
func passwordErr(cmd string, err error) error {
	switch {
	case errors.Is(err, passwords.ErrPasswordTooShort):
		msg := fmt.Sprintf("the password is too short: it needs at least %d bytes; choose a longer one", passwords.MinLength)
		if cmd == "user add" {
			msg += ", or leave out --password-stdin to have a strong one generated"
		}
		return errors.New(msg)
	case errors.Is(err, passwords.ErrPasswordTooLong):
		return fmt.Errorf("the password is longer than %d bytes; choose a shorter one", passwords.MaxLength)
	}
	return err
}

// userErr words the directory's refusals for the account name (and role,
// when one was given): an unknown name, an invalid name or role, a taken
// name; other errors pass through.
func userErr(name string, err error) error {
	switch {
	case errors.Is(err, users.ErrNotFound):
		return fmt.Errorf("no user named %q", name)
	case errors.Is(err, users.ErrUserExists):
		return fmt.Errorf("user %q already exists", name)
	case errors.Is(err, users.ErrInvalidUsername):
		return fmt.Errorf("%q is not a valid user name: use 1 to %d characters of A-Z a-z 0-9 . _ @ -", name, users.MaxUsernameLen)
	}
	return err
}

// roleErr words an invalid role.
func roleErr(role string, err error) error {
	if errors.Is(err, users.ErrInvalidRole) {
		return fmt.Errorf("%q is not a role: use user or admin", role)
	}
	return err
}

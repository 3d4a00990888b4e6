package pgstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tetherhq/tether"
)

// errClosed is the cause of every error of a closed Store.
var errClosed = errors.New("store closed")

// storeError is a failed store operation. It reads as one layer,
// "pgstore: load: connect: dial tcp 127.0.0.1:5432: connect: connection
// refused", and matches its cause with errors.Is and errors.As; when the
// database could not answer it also matches [tether.ErrStoreUnavailable],
// which the middleware answers with 503 and never treats as a logout.
//
// Its text never contains a store key, a session value or a password:
// PostgreSQL's own messages are reduced to their primary message and
// SQLSTATE (their DETAIL lines can quote row values), and connection errors
// name the server and the failure, never the connection string.
type storeError struct {
	op          string
	err         error
	unavailable bool
}

func (e *storeError) Error() string { return "pgstore: " + e.op + ": " + describe(e.err) }

// Unwrap returns the category (when the database could not answer) and
// the cause.
func (e *storeError) Unwrap() []error {
	if e.unavailable {
		return []error{tether.ErrStoreUnavailable, e.err}
	}
	return []error{e.err}
}

// classify returns err as the error of operation op, marked unavailable
// when it means that the database could not answer rather than that the
// request was wrong. The store's own verdicts ([tether.ErrNotFound],
// [tether.ErrExists], [tether.ErrNotInteger], [tether.ErrConflict]) and
// errors classified already pass through unchanged.
func classify(op string, err error) error {
	var se *storeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se), errors.Is(err, tether.ErrNotFound), errors.Is(err, tether.ErrExists), errors.Is(err, tether.ErrNotInteger),
		errors.Is(err, tether.ErrConflict):
		return err
	}
	return &storeError{op: op, err: err, unavailable: unavailable(err)}
}

// unavailable reports whether err means that the database could not answer:
// no connection, a connection lost or closed, a timeout or cancellation, a
// server shutting down, restarting or refusing writes (a standby after a
// failover), or out of resources. SQL errors (a constraint, a syntax error,
// a bad value) are not.
func unavailable(err error) bool {
	if errors.Is(err, errClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (too many connections, disk full)
			"57", // operator intervention: shutdown, terminated backend, statement timeout
			"58": // system error (I/O)
			return true
		}
		switch pe.Code {
		case "25006", // read-only transaction: a standby, e.g. during a failover
			"40001", "40P01", // serialization failure, deadlock: retry later
			"55P03": // lock not available (lock_timeout)
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) {
		return true
	}
	// pgx reports a connection it closed after an earlier failure, and
	// pgxpool a closed pool, with plain errors.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool")
}

// describe returns err's text without anything that may be secret.
func describe(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		// pgconn's own text starts with the user and database; the cause
		// names the server ("127.0.0.1:5432 (127.0.0.1): dial error: …").
		return "connect: " + ce.Unwrap().Error()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	return err.Error()
}

package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tetherhq/tether"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNewerSchema is wrapped by the error of Open and New when the database
// was migrated by a newer version of this package than the running one.
var ErrNewerSchema = errors.New("sqlitestore: database schema is newer than this program knows")

// errClosed is returned by operations on a closed Store.
var errClosed = fmt.Errorf("%w: store closed", tether.ErrStoreUnavailable)

// classify wraps err in [tether.ErrStoreUnavailable] when it means that the
// database could not answer, rather than that the request was wrong.
func classify(err error) error {
	if err == nil || errors.Is(err, tether.ErrStoreUnavailable) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", tether.ErrStoreUnavailable, err)
	}
	return err
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS:
		return true
	}
	return false
}

// isPrimaryKeyConflict reports whether err is an INSERT on a taken key.
func isPrimaryKeyConflict(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

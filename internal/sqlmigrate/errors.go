package sqlmigrate

import (
	"errors"
	"fmt"
)

// ErrNewerSchema is matched (errors.Is) by Apply's error when the database
// records a schema version beyond the program's migrations: a newer program
// migrated it. Callers translate it into their own error, reading the
// versions from *NewerSchemaError with errors.As.
var ErrNewerSchema = errors.New("database schema is newer than this program knows")

// NewerSchemaError is the error Apply returns for a newer database.
type NewerSchemaError struct {
	Version int // the highest version recorded in the database
	Known   int // the highest version the program's migrations reach
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("%v: the database has schema version %d, this program knows up to %d", ErrNewerSchema, e.Version, e.Known)
}

// Unwrap returns ErrNewerSchema.
func (e *NewerSchemaError) Unwrap() error { return ErrNewerSchema }

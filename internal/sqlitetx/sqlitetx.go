// Package sqlitetx runs SQLite write transactions that take the write lock
// up front (BEGIN IMMEDIATE), for the session store and the migration
// runner alike.
package sqlitetx

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"
)

// Immediate runs fn inside BEGIN IMMEDIATE … COMMIT on one connection of db:
// the transaction holds SQLite's write lock from its first statement, so a
// read-modify-write in fn cannot interleave with another writer, whatever
// _txlock db was opened with. The transaction is rolled back if fn fails.
// Once fn has succeeded the commit no longer depends on ctx: the caller gets
// either an error and no change, or the change.
func Immediate(ctx context.Context, db *sql.DB, fn func(c *sql.Conn) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(c); err != nil {
		rollback(c)
		return err
	}
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		rollback(c)
		return err
	}
	return nil
}

// rollback ends the open transaction on c. If that fails (SQLite may have
// rolled back by itself already, or the connection is broken) the connection
// is discarded rather than returned to the pool with a transaction open.
func rollback(c *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

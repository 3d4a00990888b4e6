package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"
)

// exclusive runs fn holding the Store's write slot, so that the Store's
// writes reach SQLite one at a time. It gives up, without running fn, when
// ctx is done or the Store is closed.
func (s *Store) exclusive(ctx context.Context, fn func() error) error {
	if s.closed.Load() {
		return errClosed
	}
	select {
	case s.write <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop.Done():
		return errClosed
	}
	defer func() { <-s.write }()
	if s.closed.Load() {
		return errClosed
	}
	return fn()
}

// immediate runs fn inside BEGIN IMMEDIATE … COMMIT on one connection of db:
// the transaction holds SQLite's write lock from its first statement, so a
// read-modify-write in fn cannot interleave with another writer, whatever
// _txlock db was opened with. The transaction is rolled back if fn fails.
// Once fn has succeeded the commit no longer depends on ctx: the caller gets
// either an error and no change, or the change.
func immediate(ctx context.Context, db *sql.DB, fn func(c *sql.Conn) error) error {
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

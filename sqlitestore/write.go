package sqlitestore

import (
	"context"
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
	case <-s.sweeper.Stopping():
		return errClosed
	}
	defer func() { <-s.write }()
	if s.closed.Load() {
		return errClosed
	}
	return fn()
}

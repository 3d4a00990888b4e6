package memstore

import (
	"context"

	"github.com/tetherhq/tether"
)

var _ tether.Purger = (*Store)(nil)

// DeleteAll implements [tether.Purger]: it drops every record, live or not
// yet swept, and the per-user index, under the store's lock, and returns how
// many records it dropped.
func (s *Store) DeleteAll(ctx context.Context) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	n := len(s.records)
	clear(s.records)
	clear(s.byUser)
	return n, nil
}

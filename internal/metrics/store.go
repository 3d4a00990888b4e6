package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/tetherhq/tether"
)

// Store wraps a tether.Store to time every call and classify loads. The
// optional Pinger and UserIndex capabilities pass through.
func (m *Metrics) Store(s tether.Store) tether.Store {
	return &store{Store: s, m: m}
}

type store struct {
	tether.Store
	m *Metrics
}

func (s *store) Create(ctx context.Context, key string, rec *tether.Record) error {
	defer s.timed("create")()
	return s.Store.Create(ctx, key, rec)
}

func (s *store) Load(ctx context.Context, key string, now, idle time.Time) (*tether.Record, error) {
	start := time.Now()
	rec, err := s.Store.Load(ctx, key, now, idle)
	s.m.StoreCall("load", time.Since(start))
	switch {
	case errors.Is(err, tether.ErrNotFound):
		s.m.Lookup("miss")
	case err != nil:
		s.m.Lookup("error")
	default:
		if expired, _ := rec.ExpiredAt(now); expired {
			s.m.Lookup("expired")
		} else {
			s.m.Lookup("hit")
		}
	}
	return rec, err
}

func (s *store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	defer s.timed("update")()
	return s.Store.Update(ctx, key, now, p)
}

func (s *store) Delete(ctx context.Context, key string) error {
	defer s.timed("delete")()
	return s.Store.Delete(ctx, key)
}

func (s *store) Ping(ctx context.Context) error {
	if p, ok := s.Store.(tether.Pinger); ok {
		defer s.timed("ping")()
		return p.Ping(ctx)
	}
	return nil
}

func (s *store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	idx, ok := s.Store.(tether.UserIndex)
	if !ok {
		return nil, errors.New("metrics: the store keeps no per-user index")
	}
	defer s.timed("list_user")()
	return idx.ListUser(ctx, userID, now)
}

func (s *store) DeleteUser(ctx context.Context, userID string) (int, error) {
	idx, ok := s.Store.(tether.UserIndex)
	if !ok {
		return 0, errors.New("metrics: the store keeps no per-user index")
	}
	defer s.timed("delete_user")()
	return idx.DeleteUser(ctx, userID)
}

func (s *store) timed(op string) func() {
	start := time.Now()
	return func() { s.m.StoreCall(op, time.Since(start)) }
}

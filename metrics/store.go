package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/tetherhq/tether"
)

// Store wraps s to time every call (tether_store_duration_seconds, by
// operation) and classify loads (tether_session_lookups_total). Pass the
// result as tether.Config.Store.
//
// The wrapper implements [tether.Pinger] only if s does, and
// [tether.UserIndex] only if s does, so a caller's type assertion on it
// answers as it would on s; those calls are timed too ("ping", "list_user",
// "delete_user"). Other optional interfaces of s are not passed through,
// but its method Unwrap() tether.Store returns s, so that tether.New still
// refuses a development-only store in production when it is wrapped. The
// wrapper is safe for concurrent use if s is.
func (m *Metrics) Store(s tether.Store) tether.Store {
	base := &store{Store: s, m: m}
	p, isPinger := s.(tether.Pinger)
	idx, isIndex := s.(tether.UserIndex)
	switch {
	case isPinger && isIndex:
		return &pingIndexStore{base, pinger{p, m}, userIndex{idx, m}}
	case isPinger:
		return &pingStore{base, pinger{p, m}}
	case isIndex:
		return &indexStore{base, userIndex{idx, m}}
	default:
		return base
	}
}

// The four wrappers: store alone, or with the timed capabilities of the
// inner store embedded.
type (
	pingStore struct {
		*store
		pinger
	}
	indexStore struct {
		*store
		userIndex
	}
	pingIndexStore struct {
		*store
		pinger
		userIndex
	}
)

// store times the tether.Store methods. Embedding the interface, not the
// inner value, keeps its method set to those four.
type store struct {
	tether.Store
	m *Metrics
}

// Unwrap returns the wrapped store.
func (s *store) Unwrap() tether.Store { return s.Store }

func (s *store) Create(ctx context.Context, key string, rec *tether.Record) error {
	defer timed(s.m, "create")()
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
	defer timed(s.m, "update")()
	return s.Store.Update(ctx, key, now, p)
}

func (s *store) Delete(ctx context.Context, key string) error {
	defer timed(s.m, "delete")()
	return s.Store.Delete(ctx, key)
}

// pinger times the inner store's Ping.
type pinger struct {
	p tether.Pinger
	m *Metrics
}

func (p pinger) Ping(ctx context.Context) error {
	defer timed(p.m, "ping")()
	return p.p.Ping(ctx)
}

// userIndex times the inner store's ListUser and DeleteUser.
type userIndex struct {
	idx tether.UserIndex
	m   *Metrics
}

func (u userIndex) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	defer timed(u.m, "list_user")()
	return u.idx.ListUser(ctx, userID, now)
}

func (u userIndex) DeleteUser(ctx context.Context, userID string) (int, error) {
	defer timed(u.m, "delete_user")()
	return u.idx.DeleteUser(ctx, userID)
}

// timed starts timing op; call the result when the call returns.
func timed(m *Metrics, op string) func() {
	start := time.Now()
	return func() { m.StoreCall(op, time.Since(start)) }
}

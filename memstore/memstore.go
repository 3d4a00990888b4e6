// Package memstore is an in-memory [tether.Store] for tests and examples.
//
// Sessions live in process memory: they are lost on restart and cannot be
// shared between instances, which is why a [tether.Manager] configured for
// production refuses this store (see [tether.Config.Production]). Expired records
// are removed when they are next read and by Sweep.
//
// A Store is safe for concurrent use; every operation holds one mutex, which
// makes each Patch atomic.
package memstore

import (
	"context"
	"time"

	"github.com/tetherhq/tether"
)

// Store is an in-memory [tether.Store]. The zero value is not usable; call New.
type Store struct {
	mu      chan struct{} // a one-slot semaphore; see lock
	records map[string]*tether.Record
	byUser  map[string]map[string]struct{}
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		mu:      make(chan struct{}, 1),
		records: make(map[string]*tether.Record),
		byUser:  make(map[string]map[string]struct{}),
	}
}

// lock takes the store's lock, or gives up when ctx is done.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.mu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.mu }

// DevelopmentOnly marks the store as unfit for production; [tether.New] refuses
// it when Config.Production is set.
func (s *Store) DevelopmentOnly() {}

// Create implements [tether.Store].
func (s *Store) Create(ctx context.Context, key string, rec *tether.Record) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if _, ok := s.records[key]; ok {
		return tether.ErrExists
	}
	s.records[key] = rec.Clone()
	if rec.UserID != "" {
		keys := s.byUser[rec.UserID]
		if keys == nil {
			keys = make(map[string]struct{})
			s.byUser[rec.UserID] = keys
		}
		keys[key] = struct{}{}
	}
	return nil
}

// Load implements [tether.Store].
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	rec, expired, err := s.findLocked(key, now)
	if err != nil {
		return nil, err
	}
	if expired {
		return rec.Clone(), nil // never extended
	}
	p := tether.Patch{IdleDeadline: idleDeadline}
	_ = p.Apply(rec)
	return rec.Clone(), nil
}

// findLocked returns the record under key, or [tether.ErrNotFound]. A record
// that has expired at now is removed, and returned with expired set. The
// caller holds the lock.
func (s *Store) findLocked(key string, now time.Time) (rec *tether.Record, expired bool, err error) {
	rec, ok := s.records[key]
	if !ok {
		return nil, false, tether.ErrNotFound
	}
	if expired, _ = rec.ExpiredAt(now); expired {
		s.deleteLocked(key)
	}
	return rec, expired, nil
}

// Update implements [tether.Store].
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	rec, expired, err := s.findLocked(key, now)
	if err != nil {
		return nil, err
	}
	if expired {
		return nil, tether.ErrNotFound // never brought back
	}
	next := rec.Clone()
	if err := p.Apply(next); err != nil {
		return nil, err
	}
	s.records[key] = next
	return next.Clone(), nil
}

// Delete implements [tether.Store].
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	s.deleteLocked(key)
	return nil
}

func (s *Store) deleteLocked(key string) {
	rec, ok := s.records[key]
	if !ok {
		return
	}
	delete(s.records, key)
	if rec.UserID != "" {
		keys := s.byUser[rec.UserID]
		delete(keys, key)
		if len(keys) == 0 {
			delete(s.byUser, rec.UserID)
		}
	}
}

// ListUser implements [tether.UserIndex].
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	out := make(map[string]*tether.Record)
	for key := range s.byUser[userID] {
		rec := s.records[key]
		if expired, _ := rec.ExpiredAt(now); expired {
			s.deleteLocked(key)
			continue
		}
		out[key] = rec.Clone()
	}
	return out, nil
}

// DeleteUser implements [tether.UserIndex].
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	n := 0
	for key := range s.byUser[userID] {
		s.deleteLocked(key)
		n++
	}
	return n, nil
}

// Sweep removes every record that has expired at now and returns how many.
func (s *Store) Sweep(now time.Time) int {
	s.mu <- struct{}{}
	defer s.unlock()
	n := 0
	for key, rec := range s.records {
		if expired, _ := rec.ExpiredAt(now); expired {
			s.deleteLocked(key)
			n++
		}
	}
	return n
}

// Len returns the number of records held, live or not yet swept.
func (s *Store) Len() int {
	s.mu <- struct{}{}
	defer s.unlock()
	return len(s.records)
}

package tether

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Incr adds delta to the integer stored under key (a missing key counts as 0)
// and returns the new value. For a stored session the store applies the
// increment at once and atomically, together with any pending changes, so
// concurrent requests never lose an increment. It returns [ErrNotInteger] if the
// value is not an integer, and [ErrSessionEnded] if the session was destroyed
// by another request meanwhile. When Incr is the request's first use of its
// session, loading it and incrementing are one store call.
//
// Once the response has started, Incr still increments a value of a stored
// session in the store (nothing is lost: the store applies it at once), and
// returns [ErrResponseStarted] when it could only change the session in
// memory (a session not stored yet, or a value this request changed).
func (s *Session) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	if reserved(key) {
		return 0, fmt.Errorf("%w: %q", ErrReservedKey, key)
	}
	return s.incr(ctx, key, delta)
}

// incr is Incr without the check of the key.
func (s *Session) incr(ctx context.Context, key string, delta int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded && s.candKey != "" {
		if n, done, err := s.loadIncrLocked(ctx, key, delta); done {
			return n, err
		}
	}
	s.loadLocked()
	if s.loadErr != nil {
		return 0, s.loadErr
	}
	if s.destroyed {
		return 0, ErrSessionDestroyed
	}
	_, inSet := s.patch.Set[key]
	deleted := slices.Contains(s.patch.Delete, key)
	if s.committed {
		// Saved already: what the patch holds is stored, and a new token
		// is issued; only the store path remains.
		inSet, deleted = false, false
	}
	if !s.exists || (s.regen && !s.committed) || inSet || deleted {
		if err := s.changeLocked(); err != nil {
			return 0, err
		}
		// Nobody else can see this value yet (a session not stored, a new token
		// not issued, or a value this request already overwrote), so a local
		// read-modify-write is atomic.
		var cur int64
		if raw, ok := s.ensure().Values[key]; ok {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return 0, ErrNotInteger
			}
		}
		if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
			return 0, ErrNotInteger
		}
		raw, _ := json.Marshal(cur + delta)
		if s.exists && s.regen && !inSet && !deleted {
			// The new token starts from the stored record at commit
			// (commitRegenerate), so keep this as a delta: increments other
			// requests make on the old record meanwhile are not lost.
			if err := s.putLocked(key, raw); err != nil {
				return 0, err
			}
			if s.patch.Incr == nil {
				s.patch.Incr = map[string]int64{}
			}
			s.patch.Incr[key] += delta
			s.dirty = true
			return cur + delta, nil
		}
		if err := s.setLocked(key, raw); err != nil {
			return 0, err
		}
		return cur + delta, nil
	}
	p := s.patch
	if s.committed {
		p = Patch{}
	}
	p.Incr = map[string]int64{key: delta}
	ctx, cancel := s.m.cfg.storeCtx(ctx)
	rec, err := s.m.cfg.Store.Update(ctx, s.key, s.m.cfg.Now(), &p)
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		s.ended = true
		return 0, ErrSessionEnded
	case errors.Is(err, ErrNotInteger):
		return 0, ErrNotInteger
	case err != nil:
		return 0, storeErr(err)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	s.noteStoredLocked(rec)
	s.rec, s.patch, s.dirty = rec, Patch{}, false
	var n int64
	if err := json.Unmarshal(rec.Values[key], &n); err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

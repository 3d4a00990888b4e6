package throttle

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// DefaultMemoryKeys is how many keys [NewMemory] holds.
const DefaultMemoryKeys = 100_000

// Memory is a [Counter] in process memory, for an application that runs as
// one instance. It holds a bounded number of keys ([DefaultMemoryKeys] from
// [NewMemory]) and never forgets a live window to make room: when every slot
// holds a window that still runs, Add on a new key reclaims the windows that
// have ended, and if none has, refuses with a [*FullError] saying when the
// soonest one ends (the [Limiter] answers such an attempt as throttled).
// Keys already counted keep counting when it is full. Forgetting the oldest
// live window instead would let an attacker wipe a targeted account's count
// by failing on enough other keys. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	max     int
	keys    map[string]*window
	seq     uint64    // the last window id handed out
	soonest time.Time // no live window ends before it (a lower bound)
}

type window struct {
	n   int64
	end time.Time
	id  string // unique per Memory: a sequence number, never reused
}

// NewMemory returns an empty in-memory Counter holding at most
// [DefaultMemoryKeys] keys. now defaults to time.Now.
func NewMemory(now func() time.Time) *Memory { return NewMemorySize(now, DefaultMemoryKeys) }

// NewMemorySize is [NewMemory] holding at most maxKeys keys (default
// [DefaultMemoryKeys] when maxKeys <= 0). A key with a short name costs
// about 130 bytes (100,000 keys: about 13 MB); an attempt counts on two
// keys (account and IP) or one (device).
func NewMemorySize(now func() time.Time, maxKeys int) *Memory {
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMemoryKeys
	}
	return &Memory{now: now, max: maxKeys, keys: map[string]*window{}}
}

// Add implements [Counter.Add]. Windows are numbered in the order they
// start. On a new key when every slot holds a live window, it returns a
// [*FullError] and counts nothing.
func (m *Memory) Add(ctx context.Context, key string, d time.Duration) (Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	w, ok := m.keys[key]
	if !ok || !now.Before(w.end) {
		if !ok && len(m.keys) >= m.max {
			if wait := m.reclaim(now); wait > 0 {
				return Count{}, &FullError{RetryAfter: wait}
			}
		}
		m.seq++
		w = &window{end: now.Add(d), id: strconv.FormatUint(m.seq, 36)}
		m.keys[key] = w
		if len(m.keys) == 1 || w.end.Before(m.soonest) {
			m.soonest = w.end
		}
	}
	w.n++
	return Count{N: w.n, Left: w.end.Sub(now), Window: w.id}, nil
}

// reclaim drops the windows that have ended, and reports how long until
// one ends when none had (0 when there is room now). It scans the keys only
// once the soonest window may have ended, so a full counter under a flood
// of new keys refuses them without a scan each.
func (m *Memory) reclaim(now time.Time) time.Duration {
	if now.Before(m.soonest) {
		return m.soonest.Sub(now)
	}
	var soonest time.Time
	for k, w := range m.keys {
		if !now.Before(w.end) {
			delete(m.keys, k)
		} else if soonest.IsZero() || w.end.Before(soonest) {
			soonest = w.end
		}
	}
	m.soonest = soonest
	if len(m.keys) < m.max {
		return 0
	}
	return soonest.Sub(now)
}

// Undo implements [Counter.Undo].
func (m *Memory) Undo(ctx context.Context, key, windowID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.keys[key]
	if !ok || windowID != w.id {
		return nil
	}
	if w.n--; w.n <= 0 || !m.now().Before(w.end) {
		delete(m.keys, key)
	}
	return nil
}

// Reset implements [Counter.Reset].
func (m *Memory) Reset(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

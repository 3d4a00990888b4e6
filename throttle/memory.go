package throttle

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// maxMemoryKeys bounds the memory counter; past it, expired keys are
// dropped, then the key whose window ends first.
const maxMemoryKeys = 100_000

// Memory is a [Counter] in process memory, for an application that runs as
// one instance. It holds at most 100,000 keys: past that, expired keys are
// dropped first, then the key whose window ends soonest. It is safe for
// concurrent use.
type Memory struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*window
	seq  uint64 // the last window id handed out
}

type window struct {
	n   int64
	end time.Time
	id  string // unique per Memory: a sequence number, never reused
}

// NewMemory returns an empty in-memory Counter. now defaults to time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, keys: map[string]*window{}}
}

// Add implements [Counter.Add]. Windows are numbered in the order they start.
func (m *Memory) Add(ctx context.Context, key string, d time.Duration) (Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	w, ok := m.keys[key]
	if !ok || !now.Before(w.end) {
		if !ok && len(m.keys) >= maxMemoryKeys {
			m.evict(now)
		}
		m.seq++
		w = &window{end: now.Add(d), id: strconv.FormatUint(m.seq, 36)}
		m.keys[key] = w
	}
	w.n++
	return Count{N: w.n, Left: w.end.Sub(now), Window: w.id}, nil
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

// evict makes room: expired keys first, else the one ending soonest.
func (m *Memory) evict(now time.Time) {
	var soonest string
	var end time.Time
	for k, w := range m.keys {
		if !now.Before(w.end) {
			delete(m.keys, k)
			continue
		}
		if soonest == "" || w.end.Before(end) {
			soonest, end = k, w.end
		}
	}
	if len(m.keys) >= maxMemoryKeys && soonest != "" {
		delete(m.keys, soonest)
	}
}

package passwords

import "sync"

// Bounds of the tally of stored parameters that [Hasher.Dummy] follows.
const (
	// maxTallied is how many distinct parameter sets the tally holds; a
	// deployment has one per past change of parameters, rarely more than two
	// or three.
	maxTallied = 8
	// tallyWindow is the total count at which every count is halved, so the
	// tally follows the recent mix of logins, and counts stay small.
	tallyWindow = 1024
)

// tally counts the parameters of the stored hashes a Hasher verified (issue
// 11 row 9). It holds at most maxTallied parameter sets with a count each:
// no user, hash, salt or password.
type tally struct {
	mu     sync.Mutex
	counts map[Params]int
	total  int
}

// add counts one verification of a stored hash with parameters p. When the
// tally is full, p replaces the least counted set, so a new set can enter.
func (t *tally) add(p Params) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = make(map[Params]int, maxTallied)
	}
	if _, ok := t.counts[p]; !ok && len(t.counts) >= maxTallied {
		var least Params
		n := -1
		for q, c := range t.counts {
			if n < 0 || c < n || (c == n && cheaper(q, least)) {
				least, n = q, c
			}
		}
		delete(t.counts, least)
		t.total -= n
	}
	t.counts[p]++
	t.total++
	if t.total >= tallyWindow {
		t.total = 0
		for q, c := range t.counts {
			if c /= 2; c == 0 {
				delete(t.counts, q)
			} else {
				t.counts[q] = c
				t.total += c
			}
		}
	}
}

// mode returns the most counted parameters, or def when nothing is counted.
// Ties go to def, then to the costlier set (never the cheaper of two equally
// common ones).
func (t *tally) mode(def Params) Params {
	t.mu.Lock()
	defer t.mu.Unlock()
	best, n := def, t.counts[def]
	for q, c := range t.counts {
		if c > n || (c == n && q != def && best != def && cheaper(best, q)) {
			best, n = q, c
		}
	}
	return best
}

// size returns how many parameter sets are tallied and their total count.
func (t *tally) size() (sets, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.counts), t.total
}

// cheaper orders parameter sets by the work of one verification (memory ×
// passes), then by every field, so that choices never depend on map order.
func cheaper(a, b Params) bool {
	wa, wb := uint64(a.Memory)*uint64(a.Time), uint64(b.Memory)*uint64(b.Time)
	switch {
	case wa != wb:
		return wa < wb
	case a.Memory != b.Memory:
		return a.Memory < b.Memory
	case a.Threads != b.Threads:
		return a.Threads < b.Threads
	case a.KeyLen != b.KeyLen:
		return a.KeyLen < b.KeyLen
	}
	return a.SaltLen < b.SaltLen
}

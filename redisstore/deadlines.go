package redisstore

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/tetherhq/tether/internal/unixms"
)

// deadlines remembers, per session key, the deadlines of the last copy of
// the session this Store read or wrote. Load uses it to choose its command:
// a plain GET when the session's idle deadline is known to be recent enough
// that the load script would not move it (a busy session: most reads), the
// load script otherwise (a read that moves the deadline, or a key this
// Store has not seen). The choice never decides the result: a GET's answer
// is checked against the same rule, and the script runs when it fails, so a
// wrong or missing entry costs one round trip, never a wrong answer.
//
// Why: the script costs Redis about twice the CPU of a GET (measured in
// docs/benchmarks.md), for a write that a busy session needs about once a
// second. Memory: at most deadlineShards*deadlinesPerShard entries (a
// shard is emptied when full), each the key and two int64s.
//
// Safe for concurrent use.
type deadlines struct {
	seed   maphash.Seed
	shards [deadlineShards]deadlineShard
}

const (
	deadlineShards    = 16
	deadlinesPerShard = 1 << 12 // 65,536 sessions in all
)

type deadlineShard struct {
	mu sync.Mutex
	m  map[string][2]int64 // idle, absolute deadline (Unix ms)
}

func newDeadlines() *deadlines {
	d := &deadlines{seed: maphash.MakeSeed()}
	for i := range d.shards {
		d.shards[i].m = make(map[string][2]int64)
	}
	return d
}

func (d *deadlines) shard(sk string) *deadlineShard {
	return &d.shards[maphash.String(d.seed, sk)%deadlineShards]
}

// seen records the deadlines of a copy of sk just read or written.
func (d *deadlines) seen(sk string, idle, abs time.Time) {
	sh := d.shard(sk)
	v := [2]int64{unixms.From(idle), unixms.From(abs)}
	sh.mu.Lock()
	if old, ok := sh.m[sk]; !ok || old != v {
		if !ok && len(sh.m) >= deadlinesPerShard {
			clear(sh.m)
		}
		sh.m[sk] = v
	}
	sh.mu.Unlock()
}

// getFirst reports whether a Load(now, want) of sk should try a plain GET:
// the last copy seen is live at now and its idle deadline is behind the
// wanted one by less than maxBehind (ms), so the script would not write.
func (d *deadlines) getFirst(sk string, now, want int64, maxBehind int64) bool {
	sh := d.shard(sk)
	sh.mu.Lock()
	v, ok := sh.m[sk]
	sh.mu.Unlock()
	if !ok || v[0] <= now || v[1] <= now {
		return false
	}
	if want == 0 {
		return true
	}
	want = min(want, v[1])
	return want >= v[0] && want-v[0] < maxBehind
}

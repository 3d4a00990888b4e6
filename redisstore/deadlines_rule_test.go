package redisstore

import (
	"fmt"
	"testing"
	"time"
)

// The choice between GET and the load script, alone: GET only when the last
// copy seen is live and its idle deadline is behind the wanted one (capped
// by the absolute deadline) by less than the smallest move, never ahead.
func TestDeadlinesGetFirst(t *testing.T) {
	t0 := time.UnixMilli(1_800_000_000_000)
	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	idle, abs := t0.Add(30*time.Minute), t0.Add(8*time.Hour)
	cases := []struct {
		name      string
		unknown   bool
		now, want int64
		maxBehind int64
		wantGet   bool
	}{
		{name: "never seen", unknown: true, now: ms(0), want: ms(30 * time.Minute), maxBehind: 1000},
		{name: "no move asked", now: ms(time.Second), want: 0, maxBehind: 1000, wantGet: true},
		{name: "deadline just written", now: ms(0), want: ms(30 * time.Minute), maxBehind: 1000, wantGet: true},
		{name: "behind by less than the move", now: ms(999 * time.Millisecond), want: ms(30*time.Minute + 999*time.Millisecond), maxBehind: 1000, wantGet: true},
		{name: "behind by the move: script", now: ms(time.Second), want: ms(30*time.Minute + time.Second), maxBehind: 1000},
		{name: "wanted earlier than stored: script", now: ms(0), want: ms(10 * time.Minute), maxBehind: 1000},
		{name: "idle deadline passed: script", now: ms(30 * time.Minute), want: ms(60 * time.Minute), maxBehind: 1000},
		{name: "cache slack: a minute", now: ms(50 * time.Second), want: ms(30*time.Minute + 50*time.Second), maxBehind: 60_000, wantGet: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeadlines()
			if !tc.unknown {
				d.seen("k", idle, abs)
			}
			if got := d.getFirst("k", tc.now, tc.want, tc.maxBehind); got != tc.wantGet {
				t.Errorf("getFirst: got %v, want %v", got, tc.wantGet)
			}
		})
	}
	t.Run("capped by the absolute deadline", func(t *testing.T) {
		d := newDeadlines()
		d.seen("k", abs, abs) // idle already at the absolute deadline
		if !d.getFirst("k", ms(7*time.Hour+50*time.Minute), ms(8*time.Hour+20*time.Minute), 1000) {
			t.Errorf("getFirst: got false, want true (the script cannot move past the absolute deadline)")
		}
	})
}

// Memory stays bounded: a full shard is emptied before it takes a new key.
func TestDeadlinesBounded(t *testing.T) {
	d := newDeadlines()
	t0 := time.Now()
	for i := range 4 * deadlineShards * deadlinesPerShard {
		d.seen(fmt.Sprintf("k%d", i), t0.Add(time.Hour), t0.Add(2*time.Hour))
	}
	for i := range d.shards {
		if n := len(d.shards[i].m); n > deadlinesPerShard {
			t.Errorf("shard %d: got %d entries, want at most %d", i, n, deadlinesPerShard)
		}
	}
}

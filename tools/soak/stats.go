package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// recorder keeps every request's latency in one-second buckets (by the time
// it was sent) and counts answers by kind and status. Safe for concurrent
// use.
type recorder struct {
	start time.Time
	shed  atomic.Int64 // due requests skipped because too many were outstanding

	mu     sync.Mutex
	secs   []bucket
	counts map[statusKey]int64
}

// statusKey classifies an answer: status 0 is "no response"; proxy marks
// the proxy's own 502s.
type statusKey struct {
	kind, status int
	proxy        bool
}

type bucket struct {
	lat []float32 // milliseconds
	bad int       // answers other than 2xx, 401 and 429
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start, counts: map[statusKey]int64{}}
}

func (r *recorder) add(sent time.Time, took time.Duration, kind, status int, proxy bool) {
	sec := int(sent.Sub(r.start) / time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[statusKey{kind, status, proxy}]++
	if sec < 0 {
		return
	}
	for len(r.secs) <= sec {
		r.secs = append(r.secs, bucket{})
	}
	b := &r.secs[sec]
	b.lat = append(b.lat, float32(took.Seconds()*1000))
	if status == 0 || status >= 500 {
		b.bad++
	}
}

// percentile returns the p-th percentile (0 < p <= 100, nearest rank) of
// sorted, or 0 for none.
func percentile(sorted []float32, p float64) float32 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// second is one row of the timeline.
type second struct {
	t        int
	n, bad   int
	p50, p99 float32
}

// timeline returns a row per second from the start.
func (r *recorder) timeline() []second {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]second, len(r.secs))
	for i, b := range r.secs {
		s := slices.Clone(b.lat)
		slices.Sort(s)
		out[i] = second{t: i, n: len(s), bad: b.bad, p50: percentile(s, 50), p99: percentile(s, 99)}
	}
	return out
}

// window returns p50 and p99 over the seconds [from, to).
func (r *recorder) window(from, to int) (p50, p99 float32, n int) {
	r.mu.Lock()
	var all []float32
	for i := max(from, 0); i < min(to, len(r.secs)); i++ {
		all = append(all, r.secs[i].lat...)
	}
	r.mu.Unlock()
	slices.Sort(all)
	return percentile(all, 50), percentile(all, 99), len(all)
}

// count returns how many answers had status (any kind; proxy 502s apart).
func (r *recorder) count(status int, proxy bool) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for k, v := range r.counts {
		if k.status == status && k.proxy == proxy {
			n += v
		}
	}
	return n
}

// writeCounts prints the answers by kind and status.
func (r *recorder) writeCounts(w io.Writer) {
	r.mu.Lock()
	keys := make([]statusKey, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	counts := r.counts
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.status != b.status {
			return a.status < b.status
		}
		return !a.proxy && b.proxy
	})
	var parts []string
	for _, k := range keys {
		label := fmt.Sprint(k.status)
		switch {
		case k.status == 0:
			label = "no-response"
		case k.proxy:
			label += "(proxy)"
		}
		parts = append(parts, fmt.Sprintf("%s %s: %d", kindNames[k.kind], label, counts[k]))
	}
	r.mu.Unlock()
	fmt.Fprintf(w, "answers: %s; shed by the load generator: %d\n", strings.Join(parts, ", "), r.shed.Load())
}

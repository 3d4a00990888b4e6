package revokeprobe

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Result summarises a run's trials.
type Result struct {
	Trials     []Trial
	P50, P99   time.Duration // of the delays of refused trials (nearest rank)
	Max        time.Duration
	Stale      int // stale answers over all trials
	Revived    int // 200s after a first refusal, over all trials
	NotRefused int // trials in which B never answered 401 within Timeout
	Polls      int
	// CacheHits is how many session reads B served from its client-side
	// cache during the trials (tether_session_cache_reads_total{result="hit"}
	// on B's /metrics), or -1 when B exposes no such counter.
	CacheHits int64
}

// Summarise computes the percentiles and totals of trials.
func Summarise(trials []Trial) Result {
	r := Result{Trials: trials}
	var delays []time.Duration
	for _, t := range trials {
		r.Stale += t.Stale
		r.Revived += t.Revived
		r.Polls += t.Polls
		if !t.Refused {
			r.NotRefused++
			continue
		}
		delays = append(delays, t.Delay)
	}
	slices.Sort(delays)
	r.P50, r.P99 = Percentile(delays, 50), Percentile(delays, 99)
	if len(delays) > 0 {
		r.Max = delays[len(delays)-1]
	}
	return r
}

// Percentile is the nearest-rank p-th percentile of sorted (0 when empty):
// the smallest value that at least p % of the values do not exceed. Of
// 100 values, p99 is the 99th smallest.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Targets are the bounds of issue 13, point 3.
type Targets struct {
	P99 time.Duration // default 5 ms
	Max time.Duration // default 50 ms
}

// Violations lists every way r misses t: a trial never refused, a session
// that came back after a refusal, a delay beyond the bounds. Stale answers
// are reported, not judged: a request sent just after the logout response
// may reach B before the deletion does, which the delay bound covers.
func (r Result) Violations(t Targets) []string {
	if t.P99 <= 0 {
		t.P99 = 5 * time.Millisecond
	}
	if t.Max <= 0 {
		t.Max = 50 * time.Millisecond
	}
	var v []string
	if len(r.Trials) == 0 {
		v = append(v, "no trials")
	}
	if r.NotRefused > 0 {
		v = append(v, fmt.Sprintf("%d of %d trials: B never refused the logged-out session, want every trial refused", r.NotRefused, len(r.Trials)))
	}
	if r.Revived > 0 {
		v = append(v, fmt.Sprintf("%d answers 200 after B's first refusal, want 0", r.Revived))
	}
	if r.P99 > t.P99 {
		v = append(v, fmt.Sprintf("p99 delay %s, want at most %s", ms(r.P99), ms(t.P99)))
	}
	if r.Max > t.Max {
		v = append(v, fmt.Sprintf("max delay %s, want at most %s", ms(r.Max), ms(t.Max)))
	}
	return v
}

// Report writes the summary lines: trials, delays, stale answers.
func (r Result) Report(w io.Writer) {
	fmt.Fprintf(w, "trials %d  refused %d  not refused %d\n", len(r.Trials), len(r.Trials)-r.NotRefused, r.NotRefused)
	fmt.Fprintf(w, "delay from A's logout response to B's first 401: p50 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P99), ms(r.Max))
	fmt.Fprintf(w, "stale answers (200 to a request sent after the logout response): %d  200s after a refusal: %d  polls %d  B's cache hits %d\n", r.Stale, r.Revived, r.Polls, r.CacheHits)
}

// ms formats d in milliseconds with microsecond precision.
func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

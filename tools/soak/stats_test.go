package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]float32, 100)
	for i := range hundred {
		hundred[i] = float32(i + 1)
	}
	for _, tc := range []struct {
		name   string
		sorted []float32
		p      float64
		want   float32
	}{
		{"empty", nil, 50, 0},
		{"one", []float32{7}, 99, 7},
		{"median of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 of 1..100", hundred, 100, 100},
		{"p99 of four is the largest", []float32{1, 2, 3, 4}, 99, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRecorderBuckets(t *testing.T) {
	start := time.Now()
	r := newRecorder(start)
	r.add(start, 2*time.Millisecond, kindProfile, 200, false)
	r.add(start.Add(1500*time.Millisecond), 4*time.Millisecond, kindCounter, 503, false)
	r.add(start.Add(1600*time.Millisecond), 6*time.Millisecond, kindCounter, 502, true)
	r.add(start.Add(1700*time.Millisecond), 8*time.Millisecond, kindProfile, 0, false)
	tl := r.timeline()
	if len(tl) != 2 || tl[0].n != 1 || tl[0].bad != 0 || tl[1].n != 3 || tl[1].bad != 3 {
		t.Fatalf("got timeline %+v, want second 0: 1 request, 0 bad; second 1: 3 requests, 3 bad", tl)
	}
	if tl[1].p50 != 6 || tl[1].p99 != 8 {
		t.Fatalf("second 1: got p50 %v p99 %v, want 6 and 8", tl[1].p50, tl[1].p99)
	}
	if got := r.count(502, true); got != 1 {
		t.Fatalf("proxy 502s: got %d, want 1", got)
	}
	if got := r.count(502, false); got != 0 {
		t.Fatalf("tether 502s: got %d, want 0", got)
	}
}

func TestParseSeries(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 17
tether_store_duration_seconds_count{op="load"} 42
tether_store_duration_seconds_count{op="create"} 3
tether_security_events_total{event="session_rejected"} 1e+04
process_resident_memory_bytes 2.5e+07 1700000000000
`
	s, err := parseSeries(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"plain gauge", "go_goroutines", nil, 17},
		{"sum over labels", "tether_store_duration_seconds_count", nil, 45},
		{"one label", "tether_store_duration_seconds_count", []string{`op="load"`}, 42},
		{"exponent", "tether_security_events_total", []string{`event="session_rejected"`}, 10000},
		{"timestamp ignored", "process_resident_memory_bytes", nil, 2.5e7},
		{"absent", "nope", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.sum(tc.metric, tc.labels...); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := parseSeries(bufio.NewScanner(strings.NewReader("lonely_name\n"))); err == nil {
		t.Fatalf("a line without a value: got nil error, want one")
	}
}

func TestCounterVerdict(t *testing.T) {
	for _, tc := range []struct {
		name      string
		values    map[int64]int
		ok        int64
		wantFinal int64
		wantErr   string
	}{
		{"every increment answered once", map[int64]int{1: 1, 2: 1, 3: 1}, 3, 3, ""},
		{"gaps: increments that counted without a 200", map[int64]int{1: 1, 4: 1, 5: 1}, 3, 5, ""},
		{"a value repeated: the counter went back", map[int64]int{1: 1, 2: 2, 3: 1}, 4, 3, "counter values [2] were each answered more than once"},
		{"fewer than answered", map[int64]int{7: 1}, 9, 7, "counter ends at 7 after 9 acknowledged increments: 2 lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			final, err := counterVerdict(tc.values, tc.ok)
			if final != tc.wantFinal {
				t.Errorf("final: got %d, want %d", final, tc.wantFinal)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

package revokeprobe

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p99 of 100 is the 99th", hundred, 99, 99 * time.Millisecond},
		{"p50 of 100 is the 50th", hundred, 50, 50 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p50 of 3 is the middle", []time.Duration{1, 2, 3}, 50, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }
	logout := at(1000)
	tests := []struct {
		name  string
		polls []poll
		want  Trial
	}{
		{"200 sent before the logout answer is not stale; refusal 300us after",
			[]poll{{at(900), at(1100), 200}, {at(1100), at(1300), 401}, {at(1300), at(1400), 401}},
			Trial{Refused: true, Delay: 300 * time.Microsecond, Polls: 3}},
		{"200 sent after the logout answer is stale",
			[]poll{{at(1001), at(1100), 200}, {at(1100), at(1500), 401}},
			Trial{Refused: true, Delay: 500 * time.Microsecond, Stale: 1, Polls: 2}},
		{"refusal before the logout answer arrived counts as no delay",
			[]poll{{at(800), at(950), 401}},
			Trial{Refused: true, Delay: 0, Polls: 1}},
		{"a 200 after the first refusal is a session that came back",
			[]poll{{at(1000), at(1100), 401}, {at(1100), at(1200), 200}},
			Trial{Refused: true, Delay: 100 * time.Microsecond, Revived: 1, Stale: 1, Polls: 2}},
		{"never refused",
			[]poll{{at(900), at(1100), 200}, {at(1100), at(1200), 200}},
			Trial{Stale: 1, Polls: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.polls, logout); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	ok := Trial{Refused: true, Delay: time.Millisecond}
	many := func(n int, tl Trial) []Trial {
		out := make([]Trial, n)
		for i := range out {
			out[i] = tl
		}
		return out
	}
	tests := []struct {
		name   string
		trials []Trial
		want   []string // substrings, one per violation, in order
	}{
		{"all fast", many(100, ok), nil},
		{"no trials", nil, []string{"no trials"}},
		{"one never refused", append(many(99, ok), Trial{}), []string{"1 of 100 trials"}},
		{"a session came back", append(many(99, ok), Trial{Refused: true, Revived: 2}), []string{"2 answers 200 after"}},
		{"two slow trials put p99 over 5 ms", append(many(98, ok), Trial{Refused: true, Delay: 6 * time.Millisecond}, Trial{Refused: true, Delay: 6 * time.Millisecond}),
			[]string{"p99 delay 6.000 ms"}},
		{"one slow trial over 50 ms: max only", append(many(99, ok), Trial{Refused: true, Delay: 51 * time.Millisecond}),
			[]string{"max delay 51.000 ms"}},
		{"stale answers alone are reported, not judged", many(100, Trial{Refused: true, Delay: time.Millisecond, Stale: 1}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Summarise(tc.trials).Violations(Targets{})
			if len(got) != len(tc.want) || !slices.EqualFunc(got, tc.want, strings.Contains) {
				t.Fatalf("got %q, want one violation containing each of %q", got, tc.want)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		base string
		ok   bool
	}{
		{"http://127.0.0.1:3200", true},
		{"http://localhost:3200", true},
		{"http://[::1]:3200", true},
		{"http://10.0.0.1:3200", false},
		{"http://example.com", false},
		{"https://127.0.0.1:3200", false},
		{"127.0.0.1:3200", false},
	}
	for _, tc := range tests {
		t.Run(tc.base, func(t *testing.T) {
			if err := Loopback(tc.base); (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestParseCacheHits(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int64
	}{
		{"present", "# HELP x\ntether_session_cache_reads_total{result=\"fresh\"} 3\ntether_session_cache_reads_total{result=\"hit\"} 1234\n", 1234},
		{"exponent form", "tether_session_cache_reads_total{result=\"hit\"} 1.5e+06\n", 1500000},
		{"absent (no cache)", "tether_http_requests_total 5\n", -1},
		{"garbage value", "tether_session_cache_reads_total{result=\"hit\"} lots\n", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseCacheHits(strings.NewReader(tc.in)); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// issue 11 row 5, the flood: cookieless GET /views from a handful of client
// IPs, as fast as the server answers. Every request used to store a record
// (for the full idle timeout); with the default SESSION_CREATE_PER_IP the
// store holds at most 120 per IP and minute, whatever the number of
// requests. TETHER_FLOOD_REQUESTS sets the number of requests (default
// 2000; the issue note's figure used 100000); the loop stops after two
// minutes in any case.
func TestAnonymousFloodBounded(t *testing.T) {
	requests := 2000
	if v := os.Getenv("TETHER_FLOOD_REQUESTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TETHER_FLOOD_REQUESTS %q: want a whole number >= 1", v)
		}
		requests = n
	}
	const ips = 10
	for _, tc := range []struct {
		name, perIP string
		limit       int // 0: none
	}{
		{"default limit", "", 120},
		{"limit off", "0", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := start(t, dir, env("TRUST_PROXY", "127.0.0.1", "SESSION_CREATE_PER_IP", tc.perIP))
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
			defer hc.CloseIdleConnections()
			var created, refused, other atomic.Int64
			next := make(chan int)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for i := range next {
						req, _ := http.NewRequest("GET", in.base+"/views", nil)
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%ips))
						resp, err := hc.Do(req)
						if err != nil {
							other.Add(1)
							continue
						}
						resp.Body.Close()
						switch resp.StatusCode {
						case 200:
							created.Add(1)
						case 429:
							refused.Add(1)
						default:
							other.Add(1)
						}
					}
				})
			}
			begin := time.Now()
			stop := begin.Add(2 * time.Minute)
			sent := 0
			for ; sent < requests && time.Now().Before(stop); sent++ {
				next <- sent
			}
			close(next)
			wg.Wait()
			elapsed := time.Since(begin)
			records := liveSessions(t, dir)
			t.Logf("%d cookieless requests from %d IPs in %v: %d stored (200), %d refused (429), %d other; %d records in the store",
				sent, ips, elapsed.Round(time.Millisecond), created.Load(), refused.Load(), other.Load(), records)
			if other.Load() != 0 {
				t.Fatalf("%d requests failed or got another status than 200 or 429", other.Load())
			}
			if records != created.Load() {
				t.Fatalf("records: got %d, want %d (one per 200, none per 429)", records, created.Load())
			}
			if tc.limit == 0 {
				if records != int64(sent) {
					t.Fatalf("records without a limit: got %d, want %d", records, sent)
				}
				return
			}
			// Each IP's fixed windows start at its first request: a run of
			// elapsed spans at most elapsed/1m + 1 of them.
			bound := int64(tc.limit * ips * (int(elapsed/time.Minute) + 1))
			if records > bound {
				t.Fatalf("records: got %d, want at most %d (%d per IP and minute)", records, bound, tc.limit)
			}
			if want := min(int64(sent), int64(tc.limit*ips)); records < want {
				t.Fatalf("records: got %d, want at least %d (the limit's worth from each IP)", records, want)
			}
		})
	}
}

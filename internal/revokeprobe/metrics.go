package revokeprobe

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// cacheHitSeries is the Prometheus series of B's cache hits.
const cacheHitSeries = `tether_session_cache_reads_total{result="hit"}`

// cacheHits reads B's /metrics and returns its cache-hit counter, or -1
// when B has no /metrics on its main port or no client-side cache. It
// reads at most 1 MiB.
func (p *prober) cacheHits(ctx context.Context) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", p.cfg.B+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	return parseCacheHits(io.LimitReader(resp.Body, 1<<20))
}

// parseCacheHits finds cacheHitSeries in a Prometheus text exposition.
func parseCacheHits(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, cacheHitSeries+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 {
				return -1
			}
			return int64(f)
		}
	}
	return -1
}

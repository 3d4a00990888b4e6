package metrics

import "github.com/prometheus/client_golang/prometheus"

// CacheCounter reports the counters of a store's client-side cache of
// session reads (redisstore on rueidis: [redisstore.Store.CacheStats]).
// Each function returns a running total; they are called on every scrape,
// concurrently with requests.
//
// [redisstore.Store.CacheStats]: https://pkg.go.dev/github.com/tetherhq/tether/redisstore#Store.CacheStats
type CacheCounter interface {
	// CacheCounts returns hits (reads served from the cache, no store
	// command), misses (reads that fetched into the cache), fresh (reads
	// that went to the store's authority: unsafe methods, sensitive
	// routes, records this instance just wrote, copies too far behind or
	// expired) and invalidations (keys the server told the cache to drop).
	CacheCounts() (hits, misses, fresh, invalidations uint64)
}

// ClientCache exports c as tether_session_cache_reads_total{result="hit",
// "miss" or "fresh"} and tether_session_cache_invalidations_total. Call it
// once, when the store has a cache.
func (m *Metrics) ClientCache(c CacheCounter) {
	m.reg.MustRegister(&cacheCollector{c: c,
		reads: prometheus.NewDesc("tether_session_cache_reads_total",
			"Session reads of the client-side cache, by result: hit (no store command), miss (fetched into the cache), fresh (read from the store, bypassing the cache).",
			[]string{"result"}, nil),
		invalidations: prometheus.NewDesc("tether_session_cache_invalidations_total",
			"Cached sessions the store told this instance to drop (a flush counts one).", nil, nil),
	})
}

// cacheCollector reads the four counters in one call per scrape.
type cacheCollector struct {
	c                    CacheCounter
	reads, invalidations *prometheus.Desc
}

func (cc *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cc.reads
	ch <- cc.invalidations
}

func (cc *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, fresh, inval := cc.c.CacheCounts()
	ch <- prometheus.MustNewConstMetric(cc.reads, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(cc.reads, prometheus.CounterValue, float64(misses), "miss")
	ch <- prometheus.MustNewConstMetric(cc.reads, prometheus.CounterValue, float64(fresh), "fresh")
	ch <- prometheus.MustNewConstMetric(cc.invalidations, prometheus.CounterValue, float64(inval))
}

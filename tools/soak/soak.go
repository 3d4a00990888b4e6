package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// soakConfig is what the soak subcommand's flags set.
type soakConfig struct {
	duration, warm time.Duration
	users          int
	rate           float64 // requests per second; 0 = half the measured capacity
	anonPerSec     float64
	rssTolerance   float64 // how far above warm the end RSS may be (0.10: 10 %)
	tether         string  // prebuilt binary; "" builds ./cmd/tether
	race           bool
	work, out      string
}

// cluster is what a soak runs: Redis, two tether instances and the proxy.
type cluster struct {
	redis     *proc
	redisAddr string
	tethers   [2]*proc
	bases     [2]string
	proxyURL  string
	proxy     *proxy
}

func startCluster(cfg soakConfig, stdout io.Writer) (*cluster, func(), error) {
	bin := cfg.tether
	if bin == "" {
		fmt.Fprintf(stdout, "building ./cmd/tether (race=%v)\n", cfg.race)
		var err error
		if bin, err = buildTether(cfg.work, cfg.race); err != nil {
			return nil, nil, err
		}
	}
	c := &cluster{}
	var cleanups []func()
	cleanup := func() {
		for _, f := range slices.Backward(cleanups) {
			f()
		}
	}
	fail := func(err error) (*cluster, func(), error) { cleanup(); return nil, nil, err }
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	c.redisAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if c.redis, err = newRedis(cfg.work, port, true); err != nil {
		return fail(err)
	}
	if err := c.redis.start(dialReady(c.redisAddr)); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { c.redis.stop(syscall.SIGKILL) })
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	env := []string{
		"REDIS_URL=redis://" + c.redisAddr, "SESSION_SECRET=" + hex.EncodeToString(secret),
		"SESSION_MAX_PER_USER=1000",
	}
	for i, name := range []string{"tether-a", "tether-b"} {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		c.bases[i] = "http://127.0.0.1:" + strconv.Itoa(port)
		if c.tethers[i], err = newTether(cfg.work, bin, name, port, env); err != nil {
			return fail(err)
		}
		if err := c.tethers[i].start(httpReady(c.bases[i] + "/healthz")); err != nil {
			return fail(err)
		}
		t := c.tethers[i]
		cleanups = append(cleanups, func() { t.stop(syscall.SIGTERM) })
	}
	if c.proxy, err = newProxy(c.bases[:]); err != nil {
		return fail(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: c.proxy, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	cleanups = append(cleanups, func() { _ = srv.Close() })
	c.proxyURL = "http://" + l.Addr().String()
	return c, cleanup, nil
}

// sample is one second of the instances' resources.
type sample struct {
	t                                 float64 // seconds since the timeline's start
	rss, rssMetric, gors, heap, stack [2]float64
	redisClients                      float64 // connected_clients of Redis
}

// sampler records each instance's RSS (/proc and the process collector of
// /metrics), goroutines, Go heap and stacks in use (/metrics), and the
// clients connected to Redis, every second.
type sampler struct {
	mu   sync.Mutex
	rows []sample
}

func (s *sampler) run(ctx context.Context, c *cluster, start time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: c.redisAddr, MaxRetries: -1, PoolSize: 1})
	defer rdb.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		row := sample{t: time.Since(start).Seconds()}
		for i, p := range c.tethers {
			row.rss[i] = float64(procRSS(p.pid()))
			if m, err := scrape(c.bases[i] + "/metrics"); err == nil {
				row.rssMetric[i] = m.sum("process_resident_memory_bytes")
				row.gors[i] = m.sum("go_goroutines")
				row.heap[i] = m.sum("go_memstats_heap_inuse_bytes")
				row.stack[i] = m.sum("go_memstats_stack_inuse_bytes")
			}
		}
		row.redisClients = float64(infoInt(ctx, rdb, "clients", "connected_clients"))
		s.mu.Lock()
		s.rows = append(s.rows, row)
		s.mu.Unlock()
	}
}

// level is the median of each measure over the samples in [from, to)
// seconds, per instance; samples where an instance was down are left out.
type level struct {
	rss, rssMetric, gors, heap, stack [2]float64
	redisClients                      float64
}

func (s *sampler) level(from, to float64) level {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l level
	for i := range 2 {
		var rss, rm, g, h, st []float64
		for _, r := range s.rows {
			if r.t >= from && r.t < to && r.rss[i] > 0 && r.gors[i] > 0 {
				rss, rm, g = append(rss, r.rss[i]), append(rm, r.rssMetric[i]), append(g, r.gors[i])
				h, st = append(h, r.heap[i]), append(st, r.stack[i])
			}
		}
		l.rss[i], l.rssMetric[i], l.gors[i], l.heap[i], l.stack[i] = median(rss), median(rm), median(g), median(h), median(st)
	}
	var rc []float64
	for _, r := range s.rows {
		if r.t >= from && r.t < to {
			rc = append(rc, r.redisClients)
		}
	}
	l.redisClients = median(rc)
	return l
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// event is a fault injected at t seconds.
type event struct {
	t     float64
	label string
}

// runFaults injects the faults at fixed fractions of d after start (the
// last at 60 %, leaving the rest of the run to show the recovery): Redis
// restarted gracefully (SIGTERM), paused (SIGSTOP for pause), one tether
// instance killed (SIGKILL) and started again after a pause, Redis killed
// (SIGKILL) and started again. Redis keeps an fsynced append-only file, so
// no restart loses an acknowledged write.
func runFaults(ctx context.Context, c *cluster, start, faultsFrom time.Time, d, pause time.Duration, stdout io.Writer) ([]event, error) {
	var events []event
	note := func(label string) {
		e := event{time.Since(start).Seconds(), label}
		events = append(events, e)
		fmt.Fprintf(stdout, "%6.1fs  %s\n", e.t, label)
	}
	at := func(frac float64) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(faultsFrom.Add(time.Duration(frac * float64(d))))):
			return true
		}
	}
	redisUp := func() error { return c.redis.start(dialReady(c.redisAddr)) }
	steps := []struct {
		frac float64
		do   func() error
	}{
		{0.15, func() error {
			note("Redis restart (SIGTERM)")
			c.redis.stop(syscall.SIGTERM)
			return redisUp()
		}},
		{0.30, func() error {
			note(fmt.Sprintf("Redis paused (SIGSTOP %v)", pause))
			c.redis.signal(syscall.SIGSTOP)
			time.Sleep(pause)
			c.redis.signal(syscall.SIGCONT)
			return nil
		}},
		{0.45, func() error {
			note("tether-b killed (SIGKILL)")
			c.tethers[1].stop(syscall.SIGKILL)
			time.Sleep(pause)
			note("tether-b restarted")
			return c.tethers[1].start(httpReady(c.bases[1] + "/healthz"))
		}},
		{0.60, func() error {
			note("Redis killed (SIGKILL) and restarted")
			c.redis.stop(syscall.SIGKILL)
			return redisUp()
		}},
	}
	for _, s := range steps {
		if !at(s.frac) {
			return events, ctx.Err()
		}
		if err := s.do(); err != nil {
			return events, err
		}
	}
	return events, nil
}

// infoInt reads one integer field of a section of Redis INFO, or -1.
func infoInt(ctx context.Context, rdb *redis.Client, section, field string) int64 {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// keyCounts returns the number of session keys and per-user index keys in
// Redis (SCAN, never KEYS) and DBSIZE.
func keyCounts(ctx context.Context, addr string) (sessions, indexes, dbsize int64, err error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	count := func(pattern string) (int64, error) {
		var n int64
		it := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			n++
		}
		return n, it.Err()
	}
	if sessions, err = count("tether:s:*"); err != nil {
		return
	}
	if indexes, err = count("tether:u:*"); err != nil {
		return
	}
	dbsize, err = rdb.DBSize(ctx).Result()
	return
}

// writeTimeline writes soak.csv (one row a second: latency percentiles,
// request and error counts, RSS in MiB and goroutines of each instance) and
// events.csv (the faults) into dir, for scripts/soak-plot.gp.
func writeTimeline(dir string, rec *recorder, smp *sampler, events []event) error {
	f, err := os.Create(filepath.Join(dir, "soak.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintln(f, "# t_s requests errors p50_ms p99_ms rss_a_mib rss_b_mib goroutines_a goroutines_b heap_a_mib heap_b_mib redis_clients")
	smp.mu.Lock()
	rows := map[int]sample{}
	for _, r := range smp.rows {
		rows[int(r.t)] = r
	}
	smp.mu.Unlock()
	for _, s := range rec.timeline() {
		r := rows[s.t]
		fmt.Fprintf(f, "%d %d %d %.3f %.3f %.1f %.1f %.0f %.0f %.1f %.1f %.0f\n", s.t, s.n, s.bad, s.p50, s.p99,
			r.rss[0]/(1<<20), r.rss[1]/(1<<20), r.gors[0], r.gors[1], r.heap[0]/(1<<20), r.heap[1]/(1<<20), r.redisClients)
	}
	ef, err := os.Create(filepath.Join(dir, "events.csv"))
	if err != nil {
		return err
	}
	defer ef.Close()
	for _, e := range events {
		fmt.Fprintf(ef, "%.1f %q\n", e.t, e.label)
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// maxInFlight bounds the requests the soak has outstanding.
const maxInFlight = 512

// quietFor is how long the load stops before the warm and end levels:
// the proxy closes idle connections after 5 s, and the levels are the
// median of the last 5 samples.
const quietFor = 11 * time.Second

// runSoak runs the soak and returns an error naming every pass criterion
// that failed.
func runSoak(ctx context.Context, cfg soakConfig, stdout io.Writer) error {
	c, cleanup, err := startCluster(cfg, stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(stdout, "redis %s (appendfsync always), tether-a %s, tether-b %s, proxy %s; work dir %s\n",
		c.redisAddr, c.bases[0], c.bases[1], c.proxyURL, cfg.work)

	capRec := newRecorder(time.Now())
	w, err := newWorkload(c.proxyURL, cfg.users, capRec)
	if err != nil {
		return err
	}
	rate := cfg.rate
	if rate == 0 {
		capacity := w.closedLoop(16, 5*time.Second)
		rate = capacity / 2
		fmt.Fprintf(stdout, "capacity through the proxy (16 clients back to back, 5 s): %.0f req/s; soaking at %.0f req/s\n", capacity, rate)
	}
	// Part of the warm-up: a burst as deep as the load generator's bound
	// on requests in flight, so that the connection pools (go-redis's in
	// each instance, up to 32 connections per CPU with 64 KiB of buffers
	// each, kept open once opened) have reached the size an outage gives
	// them before the warm level is taken. Without it the end level is
	// above the warm one by those buffers (docs/benchmarks.md).
	w.closedLoop(maxInFlight, 2*time.Second)

	start := time.Now()
	w.rec = newRecorder(start)
	smp := &sampler{}
	smpCtx, stopSmp := context.WithCancel(ctx)
	defer stopSmp()
	go smp.run(smpCtx, c, start)
	go progress(smpCtx, w, smp, stdout)
	load := func(d time.Duration) {
		lctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		w.openLoop(lctx, rate, cfg.anonPerSec, maxInFlight)
	}
	now := func() float64 { return time.Since(start).Seconds() }
	// quiet stops the load long enough for the proxy's idle connections to
	// close (proxy.go: 5 s), then takes the levels: goroutines are then the
	// instance's own, not the requests' in flight.
	quiet := func(what string) level {
		fmt.Fprintf(stdout, "%6.1fs  no load for %v: %s levels\n", now(), quietFor, what)
		time.Sleep(quietFor)
		return smp.level(now()-5.5, now())
	}

	load(cfg.warm)
	warmLoaded := smp.level(now()-5, now())
	warmAt := now()
	events := []event{{now(), "no load: warm levels"}}
	warm := quiet("warm")
	faultsFrom := time.Now()
	type faultResult struct {
		events []event
		err    error
	}
	faults := make(chan faultResult, 1)
	go func() {
		ev, err := runFaults(ctx, c, start, faultsFrom, cfg.duration, 3*time.Second, stdout)
		faults <- faultResult{ev, err}
	}()
	load(cfg.duration)
	fr := <-faults
	events = append(events, fr.events...)
	if fr.err != nil {
		return fmt.Errorf("fault injection: %w", fr.err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	endAt := now()
	endLoaded := smp.level(endAt-5, endAt)
	events = append(events, event{now(), "no load: end levels"})
	end := quiet("end")
	stopSmp()

	var fails []string
	failf := func(format string, a ...any) { fails = append(fails, fmt.Sprintf(format, a...)) }
	fmt.Fprintf(stdout, "\n== soak summary: %v of faults after %v of warm load at %.0f req/s\n", cfg.duration, cfg.warm, rate)
	w.rec.writeCounts(stdout)
	fmt.Fprintf(stdout, "proxy: %d requests moved to the other instance after a refused connection, %d answered 502\n",
		c.proxy.Redials.Load(), c.proxy.Failures.Load())
	for _, st := range []int{500, 501, 502, 504} {
		if n := w.rec.count(st, false); n > 0 {
			failf("tether answered %d %d time(s)", st, n)
		}
	}
	p50, p99, n := w.rec.window(0, int(warmAt))
	fmt.Fprintf(stdout, "latency through the proxy: warm p50 %.2f ms, p99 %.2f ms (%d requests)", p50, p99, n)
	p50, p99, n = w.rec.window(int(endAt)-10, int(endAt))
	fmt.Fprintf(stdout, "; last 10 s p50 %.2f ms, p99 %.2f ms (%d requests)\n", p50, p99, n)

	for i, name := range []string{"tether-a", "tether-b"} {
		fmt.Fprintf(stdout, "%s: RSS warm %s, end %s (/proc); %s, %s (/metrics); goroutines warm %.0f, end %.0f (after %v without load)\n", name,
			mib(warm.rss[i]), mib(end.rss[i]), mib(warm.rssMetric[i]), mib(end.rssMetric[i]), warm.gors[i], end.gors[i], quietFor)
		fmt.Fprintf(stdout, "%s: under load, last 5 s of warm-up and of the run: RSS %s, %s; goroutines %.0f, %.0f\n", name,
			mib(warmLoaded.rss[i]), mib(endLoaded.rss[i]), warmLoaded.gors[i], endLoaded.gors[i])
		fmt.Fprintf(stdout, "%s: Go heap in use warm %s, end %s; goroutine stacks warm %s, end %s\n", name,
			mib(warm.heap[i]), mib(end.heap[i]), mib(warm.stack[i]), mib(end.stack[i]))
		if warm.rss[i] == 0 || end.rss[i] == 0 {
			failf("%s: no RSS or goroutine samples at warm or end", name)
			continue
		}
		if end.rss[i] > (1+cfg.rssTolerance)*warm.rss[i] {
			failf("%s: RSS at the end %s is more than %.0f %% above its warm level %s", name, mib(end.rss[i]), cfg.rssTolerance*100, mib(warm.rss[i]))
		}
		// At a dozen goroutines, 10 % is one: allow 2.
		if end.gors[i] > max(1.10*warm.gors[i], warm.gors[i]+2) {
			failf("%s: %.0f goroutines at the end, more than 10 %% (or 2) above the warm %.0f", name, end.gors[i], warm.gors[i])
		}
	}

	fmt.Fprintf(stdout, "redis: %.0f clients connected at warm, %.0f at the end (both instances' pools, the sampler)\n", warm.redisClients, end.redisClients)
	sessions, indexes, dbsize, err := keyCounts(ctx, c.redisAddr)
	if err != nil {
		failf("counting Redis keys: %v", err)
	}
	// Every session the soak made is live at the end (the idle timeout is
	// longer than the run): the users', the counter's, the anonymous ones
	// and those of logins after a 401.
	expect := int64(cfg.users) + 1 + w.anonCreated.Load() + w.relogins.Load()
	fmt.Fprintf(stdout, "redis: %d session keys (expected at most %d: %d users, 1 counter, %d anonymous, %d re-logins; of the anonymous, %d made in the last 10 min: Redis keeps a record its idle timeout, 5 min for anonymous ones, plus redisstore's 5-min grace), %d user index keys, DBSIZE %d\n",
		sessions, expect, cfg.users, w.anonCreated.Load(), w.relogins.Load(), w.anonSince(time.Now().Add(-10*time.Minute)), indexes, dbsize)
	if sessions > expect {
		failf("%d session keys in Redis, more than the %d live sessions the soak made", sessions, expect)
	}
	if sessions < int64(cfg.users)+1 {
		failf("%d session keys in Redis, fewer than the %d the users and the counter hold", sessions, cfg.users+1)
	}
	if indexes > 1 {
		failf("%d user index keys, want at most 1 (one user)", indexes)
	}
	if w.relogins.Load() > 0 {
		failf("%d logged-in requests got 401: a session was lost", w.relogins.Load())
	}

	final, ok, amb, extra, cerr := w.counterCheck()
	fmt.Fprintf(stdout, "counter: final %d; %d increments answered 200, %d without a clear answer (503, 502, no response), of which %d counted\n",
		final, ok, amb, extra)
	if cerr != nil {
		failf("%v", cerr)
	}
	if cfg.out != "" {
		if err := writeTimeline(cfg.out, w.rec, smp, events); err != nil {
			failf("writing the timeline: %v", err)
		} else {
			fmt.Fprintf(stdout, "timeline: %s/soak.csv, %s/events.csv\n", cfg.out, cfg.out)
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("soak FAILED:\n  %s", strings.Join(fails, "\n  "))
	}
	fmt.Fprintf(stdout, "soak PASSED: no 500, RSS within %.0f %% and goroutines within 10 %% (or 2) of warm, key count within the live sessions, no lost increment\n", cfg.rssTolerance*100)
	return nil
}

// progress prints a line every 10 s: requests, errors, latency and the
// instances' RSS.
func progress(ctx context.Context, w *workload, smp *sampler, stdout io.Writer) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tl := w.rec.timeline()
		if len(tl) < 11 {
			continue
		}
		p50, p99, n := w.rec.window(len(tl)-11, len(tl)-1)
		bad := 0
		for _, s := range tl[len(tl)-11 : len(tl)-1] {
			bad += s.bad
		}
		smp.mu.Lock()
		var last sample
		if len(smp.rows) > 0 {
			last = smp.rows[len(smp.rows)-1]
		}
		smp.mu.Unlock()
		fmt.Fprintf(stdout, "%6.0fs  last 10 s: %d requests, %d 5xx/no answer, p50 %.2f ms, p99 %.2f ms; RSS a %s b %s; goroutines a %.0f b %.0f\n",
			last.t, n, bad, p50, p99, mib(last.rss[0]), mib(last.rss[1]), last.gors[0], last.gors[1])
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// runFlood runs the three floods one after the other on a fresh instance
// and returns an error naming every check that failed.
func runFlood(ctx context.Context, cfg floodConfig, stdout io.Writer) error {
	ft, cleanup, err := startFloodTarget(cfg, stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	var fails []string
	failf := func(format string, a ...any) { fails = append(fails, fmt.Sprintf(format, a...)) }
	get := func(path, cookie string) *http.Request {
		r, _ := http.NewRequest("GET", ft.base+path, nil)
		if cookie != "" {
			r.Header.Set("Cookie", "sid="+cookie)
		}
		return r
	}
	// Warm the instance a little so the baseline is not a cold process.
	blast(ctx, 2000, cfg.conc, 10*time.Second, ft.t.pid(), func(int) *http.Request { return get("/", "") })
	before, err := ft.snapshot(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "baseline: %s\n", before)

	// 1. Cookieless: every GET /views without a cookie would start a session.
	counts, peak, took := blast(ctx, cfg.cookieless, cfg.conc, 30*time.Second, ft.t.pid(), func(int) *http.Request { return get("/views", "") })
	after, err := ft.snapshot(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== %d cookieless GET /views, %d clients, %v (%.0f req/s): %s\n", cfg.cookieless, cfg.conc,
		took.Round(time.Millisecond), float64(cfg.cookieless)/took.Seconds(), statusLine(counts))
	fmt.Fprintf(stdout, "   sessions created (store creates): %.0f; Redis keys %d -> %d (+%d), used_memory %s -> %s\n",
		after.creates-before.creates, before.keys, after.keys, after.keys-before.keys, mib(float64(before.redisMem)), mib(float64(after.redisMem)))
	fmt.Fprintf(stdout, "   tether RSS %s -> peak %s -> %s; Go heap in use %s -> %s; goroutines %.0f -> %.0f\n",
		mib(before.rss), mib(peak), mib(after.rss), mib(before.heap), mib(after.heap), before.gors, after.gors)
	if n := fiveXX(counts); n > 0 {
		failf("cookieless flood: %d answers were 5xx or missing", n)
	}

	// 2. Forged cookies: well-formed, wrong signature; no store call.
	if cfg.forged == 0 {
		return finish(fails, stdout)
	}
	before = after
	counts, _, took = blast(ctx, cfg.forged, cfg.conc, 30*time.Second, ft.t.pid(), func(int) *http.Request { return get("/profile", forgedCookie()) })
	if after, err = ft.snapshot(ctx); err != nil {
		return err
	}
	calls := after.storeCalls - before.storeCalls
	fmt.Fprintf(stdout, "\n== %d GET /profile with forged cookies, %d clients, %v: %s\n", cfg.forged, cfg.conc, took.Round(time.Millisecond), statusLine(counts))
	fmt.Fprintf(stdout, "   store calls (tether_store_duration_seconds_count, every op): +%.0f; session_rejected events: +%.0f; Redis keys %d -> %d\n",
		calls, after.rejected-before.rejected, before.keys, after.keys)
	if calls != 0 {
		failf("forged cookies: %.0f store calls, want 0", calls)
	}
	if counts[http.StatusUnauthorized] != cfg.forged {
		failf("forged cookies: %d of %d answered 401", counts[http.StatusUnauthorized], cfg.forged)
	}

	// 3. Bursts of concurrent logins: the Argon2 slots bound the memory.
	// One burst is the demo user's right password from one address (the
	// throttle answers most of it); the other comes from as many addresses
	// as requests, each for an unknown user, so that no throttle applies and
	// every request costs a full Argon2id computation (the equal-work dummy).
	loginBurst := func(what string, mk func(i int) *http.Request) {
		before, err := ft.snapshot(ctx)
		if err != nil {
			failf("%s: %v", what, err)
			return
		}
		var peakPW struct{ inFlight, waiting, slots float64 }
		stopPW, pwDone := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(pwDone)
			for {
				if m, err := scrape(ft.base + "/metrics"); err == nil {
					peakPW.inFlight = max(peakPW.inFlight, m.sum("tether_password_hashes_in_flight"))
					peakPW.waiting = max(peakPW.waiting, m.sum("tether_password_hash_waiting"))
					peakPW.slots = m.sum("tether_password_hash_slots")
				}
				select {
				case <-stopPW:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		counts, peak, took := blast(ctx, cfg.logins, cfg.logins, 5*time.Minute, ft.t.pid(), mk)
		close(stopPW)
		<-pwDone
		time.Sleep(2 * time.Second) // the burst's connections close
		after, err := ft.snapshot(ctx)
		if err != nil {
			failf("%s: %v", what, err)
			return
		}
		fmt.Fprintf(stdout, "\n== %d concurrent POST /login, %s, %v: %s\n", cfg.logins, what, took.Round(time.Millisecond), statusLine(counts))
		fmt.Fprintf(stdout, "   Argon2id computations +%.0f; slots %.0f; peak in flight %.0f, peak waiting %.0f; tether RSS %s -> peak %s -> %s; goroutines %.0f -> %.0f\n",
			after.hashes-before.hashes, peakPW.slots, peakPW.inFlight, peakPW.waiting, mib(before.rss), mib(peak), mib(after.rss), before.gors, after.gors)
		if n := fiveXX(counts); n > 0 {
			failf("login burst (%s): %d answers were 5xx or missing", what, n)
		}
		if peakPW.slots > 0 && peakPW.inFlight > peakPW.slots {
			failf("login burst (%s): %.0f Argon2id computations at once, more than the %.0f slots", what, peakPW.inFlight, peakPW.slots)
		}
	}
	if cfg.logins == 0 {
		return finish(fails, stdout)
	}
	loginBurst("alice's password, one address", func(int) *http.Request {
		r, _ := http.NewRequest("POST", ft.base+"/login", strings.NewReader(`{"username":"alice","password":"correct-horse"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	})
	loginBurst("unknown users, one address each", func(i int) *http.Request {
		r, _ := http.NewRequest("POST", ft.base+"/login", strings.NewReader(fmt.Sprintf(`{"username":"flood-%d","password":"wrong-password"}`, i)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		return r
	})
	return finish(fails, stdout)
}

// finish reports the failed checks, if any.
func finish(fails []string, stdout io.Writer) error {
	if len(fails) > 0 {
		return fmt.Errorf("flood FAILED:\n  %s", strings.Join(fails, "\n  "))
	}
	fmt.Fprintln(stdout, "\nflood PASSED")
	return nil
}

// statusLine formats answer counts by status, "none" for no response.
func statusLine(counts map[int]int) string {
	var sts []int
	for st := range counts {
		sts = append(sts, st)
	}
	sort.Ints(sts)
	var parts []string
	for _, st := range sts {
		label := fmt.Sprint(st)
		if st == 0 {
			label = "no response"
		}
		parts = append(parts, fmt.Sprintf("%s x%d", label, counts[st]))
	}
	return strings.Join(parts, ", ")
}

// Command revoke is a measuring tool, not product code: how fast a logout
// on tether instance A is seen by instance B on the same Redis (issue 13,
// point 3). Each trial logs in on A as the demo user, warms the session on
// B with a few GET /profile, polls B's GET /profile back to back from one
// goroutine, and logs out on A. It prints a progress line every ten trials,
// then the delay from A's logout response to B's first 401 (p50, p99,
// max), the stale answers (200s to requests sent after that response) and
// any 200 after a refusal, and exits 1 when a trial was never refused, a
// session came back, or the delays exceed -p99 / -max (the 5 ms
// and 50 ms).
//
// Against two running instances (same SESSION_SECRET, same Redis):
//
//	go run ./tools/revoke -a http://127.0.0.1:3200 -b http://127.0.0.1:3201
//
// Or let it start both from a built binary on a Redis of your choice:
//
//	go build -o /tmp/tether ./cmd/tether
//	go run ./tools/revoke -tether /tmp/tether -redis redis://127.0.0.1:6390 -cache off
//
// With -json it prints the result (revokeprobe.Result, durations in
// nanoseconds) as one JSON object on standard output instead; the exit
// status is the same. Loopback only; every trial is bounded (-timeout after the logout), and
// the whole run by -deadline.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tetherhq/tether/internal/revokeprobe"
)

func main() {
	var cfg revokeprobe.Config
	flag.StringVar(&cfg.A, "a", "", "base URL of instance A (logs in and out); with -b, the instances must already run")
	flag.StringVar(&cfg.B, "b", "", "base URL of instance B (polled)")
	bin := flag.String("tether", "", "a built tether binary: start A and B from it (instead of -a/-b)")
	redisURL := flag.String("redis", "", "with -tether: REDIS_URL of both instances (loopback)")
	cache := flag.String("cache", "", "with -tether: REDIS_CLIENT_CACHE of both instances (on|off; empty leaves it unset)")
	flag.IntVar(&cfg.Trials, "n", 100, "trials")
	flag.IntVar(&cfg.Warm, "warm", 5, "GET /profile on B before each logout")
	flag.DurationVar(&cfg.Timeout, "timeout", time.Second, "how long to poll B after a logout before the trial counts as not refused")
	flag.DurationVar(&cfg.Settle, "settle", 1500*time.Millisecond, "wait between reading every session once on B and the first trial (past the cache's own-write window)")
	flag.DurationVar(&cfg.Tail, "tail", 20*time.Millisecond, "how long to keep polling after B's first refusal")
	deadline := flag.Duration("deadline", 5*time.Minute, "bound on the whole run")
	asJSON := flag.Bool("json", false, "print the result as one JSON object (revokeprobe.Result) instead of the report")
	var t revokeprobe.Targets
	flag.DurationVar(&t.P99, "p99", 5*time.Millisecond, "target: p99 delay at most")
	flag.DurationVar(&t.Max, "max", 50*time.Millisecond, "target: max delay at most")
	flag.Parse()
	cfg.Progress = os.Stderr
	if err := run(cfg, t, *bin, *redisURL, *cache, *deadline, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "revoke:", err)
		os.Exit(1)
	}
}

func run(cfg revokeprobe.Config, t revokeprobe.Targets, bin, redisURL, cache string, deadline time.Duration, asJSON bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	switch {
	case bin != "" && (cfg.A != "" || cfg.B != ""):
		return fmt.Errorf("give either -tether (start both instances) or -a and -b, not both")
	case bin != "":
		dir, err := os.MkdirTemp("", "tether-revoke-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir) // after the servers stopped (deferred first, runs last)
		servers, err := startTwo(bin, redisURL, cache, dir)
		for _, s := range servers {
			defer s.Stop()
		}
		if err != nil {
			return err
		}
		cfg.A, cfg.B = servers[0].Base, servers[1].Base
		fmt.Fprintf(os.Stderr, "revoke: started A at %s and B at %s (REDIS_CLIENT_CACHE=%q)\n", cfg.A, cfg.B, cache)
	case cfg.A == "" || cfg.B == "":
		return fmt.Errorf("-a and -b (two running instances on one Redis), or -tether and -redis, are required")
	}
	res, err := revokeprobe.Run(ctx, cfg)
	if err != nil {
		res.Report(os.Stderr)
		return err
	}
	v := res.Violations(t)
	if asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			return err
		}
	} else {
		res.Report(os.Stdout)
		for _, s := range v {
			fmt.Println("MISSED:", s)
		}
	}
	if len(v) > 0 {
		return fmt.Errorf("%d targets missed", len(v))
	}
	if !asJSON {
		fmt.Printf("targets met: every trial refused, none came back, p99 <= %s, max <= %s\n", t.P99, t.Max)
	}
	return nil
}

// startTwo starts A and B from bin on redisURL with one fresh secret, with
// their data directories under dir.
func startTwo(bin, redisURL, cache, dir string) ([]*revokeprobe.Server, error) {
	u, err := url.Parse(redisURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("-redis %q: want redis://127.0.0.1:port", redisURL)
	}
	if err := revokeprobe.Loopback("http://" + u.Host); err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	env := revokeprobe.Env(redisURL, hex.EncodeToString(b[:]), cache)
	var servers []*revokeprobe.Server
	for _, name := range []string{"A", "B"} {
		data := filepath.Join(dir, name)
		if err := os.Mkdir(data, 0o700); err != nil {
			return servers, err
		}
		s, err := revokeprobe.StartServer(bin, data, env)
		if err != nil {
			return servers, fmt.Errorf("instance %s: %w", name, err)
		}
		servers = append(servers, s)
	}
	return servers, nil
}

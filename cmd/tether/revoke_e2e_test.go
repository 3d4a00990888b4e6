package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/revokeprobe"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// TestRevocationAcrossInstances guards issue 13, point 3 (revocation
// everywhere): two instances on one Redis; sessions warmed on B (served
// from its client-side cache, which the test checks with B's cache-hit
// counter), each logged out on A while B is polled back to back. Over 100
// trials, with REDIS_CLIENT_CACHE on and off: every trial is refused on B,
// no 200 follows B's first refusal, and no refusal waits for a cached
// copy's TTL (1 s): the delay is at most 250 ms, so B learnt of the
// logout from Redis's invalidation push, not from expiry.
//
// The latency targets (p99 <= 5 ms, max <= 50 ms) are a
// performance figure, measured by tools/revoke on a quiet machine (see
// docs/benchmarks.md; the tool exits 1 when they are missed), not asserted
// here: under `go test -race ./...` the other packages' tests share the
// cores, and a cache-less server, whose true delay is one round trip,
// measured p99 8.3 ms and max 9.2 ms in this test while the machine was
// busy. A timed assertion that fails on load would test the machine.
//
// The servers and the poller run as binaries built without -race, as in
// production (tools/revoke is package revokeprobe, unit-tested under -race).
func TestRevocationAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tether and tools/revoke and runs 2 x 100 trials against two server processes")
	}
	tetherBin := buildBinary(t, ".", "tether")
	probeBin := buildBinary(t, "../../tools/revoke", "revoke")
	srv := redistest.Start(t, redistest.Config{})
	for _, cache := range []string{"on", "off"} {
		t.Run("REDIS_CLIENT_CACHE="+cache, func(t *testing.T) {
			env := revokeprobe.Env("redis://"+srv.Addr, strings.Repeat("r", 64), cache)
			var servers []*revokeprobe.Server
			for _, name := range []string{"A", "B"} {
				s, err := revokeprobe.StartServer(tetherBin, t.TempDir(), env)
				if err != nil {
					t.Fatalf("instance %s: %v", name, err)
				}
				t.Cleanup(func() {
					if err := s.Stop(); err != nil {
						t.Errorf("instance %s: %v\n%s", name, err, s.Output())
					}
				})
				servers = append(servers, s)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, probeBin, "-a", servers[0].Base, "-b", servers[1].Base, "-n", "100", "-json", "-deadline", "150s")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run() // exit status 1 when a 5 ms / 50 ms target is missed: not judged here (see above)
			var res revokeprobe.Result
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("tools/revoke: %v (exit: %v)\nstdout:\n%s\nstderr:\n%s\nA:\n%s\nB:\n%s",
					err, runErr, stdout.String(), stderr.String(), servers[0].Output(), servers[1].Output())
			}
			var report strings.Builder
			res.Report(&report)
			t.Logf("%s%s", stderr.String(), report.String())
			if got := len(res.Trials); got != 100 {
				t.Fatalf("got %d trials, want 100", got)
			}
			for _, s := range res.Violations(revokeprobe.Targets{P99: 250 * time.Millisecond, Max: 250 * time.Millisecond}) {
				t.Errorf("%s", s)
			}
			// With the cache on, the trials' warm-up reads (5 per trial) and
			// the polls before each logout are hits; without it, none.
			if cache == "on" && res.CacheHits < 500 {
				t.Errorf("B's cache hits during the trials: got %d, want at least 500 (the warm-up reads): the trials did not measure cached reads", res.CacheHits)
			}
			if cache == "off" && res.CacheHits > 0 {
				t.Errorf("B's cache hits with REDIS_CLIENT_CACHE=off: got %d, want none", res.CacheHits)
			}
		})
	}
}

// buildBinary builds the command in dir (relative to this package),
// without -race, into a temporary directory and returns the binary's path.
func buildBinary(t *testing.T, dir, name string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build %s: %v", name, err)
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(gobin, "build", "-o", bin, dir)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

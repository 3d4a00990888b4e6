package main

import (
	"context"
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
// everywhere, measured): two instances on one Redis; a session warmed on B
// (so that a client-side cache holds it), logged out on A while B is
// polled back to back. Over 100 trials, with REDIS_CLIENT_CACHE on and
// off: every trial is refused on B, no 200 follows B's first refusal, and
// the delay from A's logout response to B's first 401 is at most 5 ms at
// p99 and 50 ms at most (the targets, unchanged). Stale answers
// are logged with the delays.
//
// The measurement is tools/revoke's (package revokeprobe). The servers run
// as separate processes built without -race, as they run in production;
// only the poller runs inside this (possibly race-instrumented) test, and
// its own overhead lands in the measured delay, which makes the bound
// stricter, not looser. On a machine too loaded to meet 5 ms even so, the
// test fails: the targets are not relaxed here. tools/revoke measures the
// same thing from an uninstrumented binary.
func TestRevocationAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tether binary and runs 2 x 100 trials against two server processes")
	}
	bin := buildTether(t)
	srv := redistest.Start(t, redistest.Config{})
	for _, cache := range []string{"on", "off"} {
		t.Run("REDIS_CLIENT_CACHE="+cache, func(t *testing.T) {
			env := revokeprobe.Env("redis://"+srv.Addr, strings.Repeat("r", 64), cache)
			var servers []*revokeprobe.Server
			for _, name := range []string{"A", "B"} {
				s, err := revokeprobe.StartServer(bin, t.TempDir(), env)
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
			var progress strings.Builder
			res, err := revokeprobe.Run(ctx, revokeprobe.Config{A: servers[0].Base, B: servers[1].Base, Trials: 100, Progress: &progress})
			var report strings.Builder
			res.Report(&report)
			t.Logf("%s%s", progress.String(), report.String())
			if err != nil {
				t.Fatalf("measurement: %v\nA:\n%s\nB:\n%s", err, servers[0].Output(), servers[1].Output())
			}
			if got := len(res.Trials); got != 100 {
				t.Fatalf("got %d trials, want 100", got)
			}
			for _, v := range res.Violations(revokeprobe.Targets{P99: 5 * time.Millisecond, Max: 50 * time.Millisecond}) {
				t.Errorf("%s", v)
			}
		})
	}
}

// buildTether builds this command, without -race, into a temporary
// directory and returns the binary's path.
func buildTether(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the server binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tether")
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

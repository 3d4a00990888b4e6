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
// everywhere, measured): two instances on one Redis; a session warmed on B
// (so that a client-side cache holds it), logged out on A while B is
// polled back to back. Over 100 trials, with REDIS_CLIENT_CACHE on and
// off: every trial is refused on B, no 200 follows B's first refusal, and
// the delay from A's logout response to B's first 401 is at most 5 ms at
// p99 and 50 ms at most (the targets, unchanged). Stale answers
// are logged with the delays.
//
// Why two built binaries: the delay is measured at the client, so every
// millisecond the poller itself loses lands in it. Run inside this test
// binary under -race, the poller's HTTP client is several times slower and
// was the part that pushed p99 over 5 ms on a loaded 2-core machine (p99
// 5.9 ms with a cache-less server, whose true delay is one round trip).
// So the servers run as `tether` built without -race, as in production,
// and the measurement runs as tools/revoke built without -race; both are
// the code under test (tools/revoke is package revokeprobe, whose logic
// has its own unit tests under -race). The bounds are not relaxed: on a
// machine too loaded to meet 5 ms even so, this test fails.
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
			runErr := cmd.Run() // exit status 1 when a target is missed: judged below from the result
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
			v := res.Violations(revokeprobe.Targets{P99: 5 * time.Millisecond, Max: 50 * time.Millisecond})
			for _, s := range v {
				t.Errorf("%s", s)
			}
			if len(v) == 0 && runErr != nil {
				t.Errorf("tools/revoke: %v, want success when every target is met", runErr)
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

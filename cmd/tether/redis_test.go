package main

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/redisstore"
)

// What REDIS_URL leaves unset gets the server's defaults; what it sets wins.
func TestRedisDefaults(t *testing.T) {
	tests := []struct {
		url                     string
		dial, read, write       time.Duration
		pool, retries, protocol int
	}{
		{"redis://127.0.0.1:6379", redisDialTimeout, redisIOTimeout, redisIOTimeout,
			redisPoolPerCPU * runtime.GOMAXPROCS(0), 1, 2},
		{"redis://127.0.0.1:6379?dial_timeout=1s&read_timeout=2s&write_timeout=3s&pool_size=7&max_retries=4&protocol=3",
			time.Second, 2 * time.Second, 3 * time.Second, 7, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			opts, err := redisstore.ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			redisDefaults(opts)
			got := [6]any{opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolSize, opts.MaxRetries, opts.Protocol}
			want := [6]any{tt.dial, tt.read, tt.write, tt.pool, tt.retries, tt.protocol}
			if got != want {
				t.Fatalf("dial, read, write, pool, retries, protocol: got %v, want %v", got, want)
			}
		})
	}
}

func TestRedisLog(t *testing.T) {
	var buf bytes.Buffer
	l := newRedisLog(slog.New(slog.NewTextHandler(&buf, nil)), "hunter2-redis")
	now := time.Unix(1_800_000_000, 0)
	l.now = func() time.Time { return now }
	ctx := context.Background()
	const dial = "redis: connection pool: failed to dial after %d attempts: %v"
	for range 5 {
		l.Printf(ctx, dial, 5, "dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	l.Printf(ctx, "redis: auth failed for user app with %s", "hunter2-redis")
	now = now.Add(redisLogEvery)
	l.Printf(ctx, dial, 5, "dial tcp 127.0.0.1:6379: connect: connection refused")

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	cases := []struct {
		name string
		got  bool
	}{
		{"three lines: the first dial failure, the auth message, the dial failure after the pause", len(lines) == 3},
		{"go-redis's prefix dropped", !strings.Contains(out, "redis: connection pool")},
		{"the 4 repeats counted", strings.Contains(lines[len(lines)-1], "suppressed=4")},
		{"Warn level", strings.Count(out, "level=WARN") == len(lines)},
		{"the password redacted", !strings.Contains(out, "hunter2-redis") && strings.Contains(out, "[redacted]")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.got {
				t.Fatalf("got:\n%s", out)
			}
		})
	}
}

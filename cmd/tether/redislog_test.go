package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

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

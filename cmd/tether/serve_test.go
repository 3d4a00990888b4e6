package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProductionRefusals(t *testing.T) {
	cases := []struct {
		name string
		env  func(string) string
		args []string
		want string
	}{
		{"no secret", env("APP_ENV", "production"), []string{"serve"}, "SESSION_SECRET"},
		{"short secret", env("APP_ENV", "production", "SESSION_SECRET", "too-short"), []string{"serve"}, "SESSION_SECRET"},
		{"demo user", env("APP_ENV", "production", "SESSION_SECRET", strings.Repeat("s", 64)), []string{"serve", "--demo"}, "--demo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--data-dir", t.TempDir(), "--port", "0", "--host", "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, args, tc.env, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "too-short") {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}

// serve on a port that is taken fails with one sentence: the address, the
// system's reason and what to do.
func TestServePortTaken(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--port", port, "--host", "127.0.0.1"}, env(), strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	want := "cannot listen on 127.0.0.1:" + port + ": address already in use; stop what listens there, or set PORT (or --port) to a free one (`tether doctor` checks it)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

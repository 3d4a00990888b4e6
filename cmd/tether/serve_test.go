package main

import (
	"bytes"
	"context"
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

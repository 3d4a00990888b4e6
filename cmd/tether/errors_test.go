package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/tetherhq/tether"
)

func TestCause(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("boom"), "boom"},
		{"store chain", fmt.Errorf("redisstore: ping: %w: %w", tether.ErrStoreUnavailable, refused), "connection refused"},
		{"wrapped net error", fmt.Errorf("users: migrate: %w", refused), "connection refused"},
		{"deadline", fmt.Errorf("redisstore: ping: %w", context.DeadlineExceeded), "no answer in time"},
		{"server's words keep their text", fmt.Errorf("x: %w", errors.New("WRONGPASS invalid username-password pair or user is disabled.")),
			"WRONGPASS invalid username-password pair or user is disabled"},
		{"prefixes in the innermost text", errors.New("users: migrate: unable to open database file (14)"), "migrate: unable to open database file (14)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cause(tc.err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStripPrefixes(t *testing.T) {
	cases := []struct{ in, want string }{
		{"tether: passwords: password must be at least 8 bytes", "password must be at least 8 bytes"},
		{"cannot reach Redis: redisstore: ping: tether: session store unavailable: dial tcp", "cannot reach Redis: ping: session store unavailable: dial tcp"},
		{"REDIS_URL: redisstore: Redis URL scheme \"http\"", "REDIS_URL: Redis URL scheme \"http\""},
		{"3 users: alice, bob", "3 users: alice, bob"}, // only at the start or after ": "
		{"no prefix at all", "no prefix at all"},
	}
	for _, tc := range cases {
		if got := stripPrefixes(tc.in); got != tc.want {
			t.Errorf("stripPrefixes(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

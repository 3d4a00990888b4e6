package main

import (
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		stdin   string
		args    []string
		want    string
		wantErr string
	}{
		{"add with flags after the name", "correct-horse\n", []string{"user", "add", "alice", "--password-stdin"}, "created user alice (user-1001, role user)", ""},
		{"add with flags before the name", "battery-staple\r\n", []string{"user", "add", "--role", "admin", "--password-stdin", "bob"}, "created user bob (user-1002, role admin)", ""},
		{"generated password", "", []string{"user", "add", "carol"}, "generated password (shown once): ", ""},
		{"duplicate", "correct-horse", []string{"user", "add", "alice", "--password-stdin"}, "", `user "alice" already exists`},
		{"bad role", "", []string{"user", "add", "dave", "--role", "root"}, "", "want user or admin"},
		{"short password", "short", []string{"user", "add", "erin", "--password-stdin"}, "", "at least 8 bytes"},
		{"empty stdin", "", []string{"user", "add", "erin", "--password-stdin"}, "", "no password on stdin"},
		{"no name", "", []string{"user", "add"}, "", "exactly one user name"},
		{"list", "", []string{"user", "list"}, "user-1002  bob       admin", ""},
		{"unknown subcommand", "", []string{"user", "frobnicate"}, "", "unknown subcommand"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, dir, tc.stdin, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out, tc.want) {
				t.Fatalf("got %q, %v; want output containing %q", out, err, tc.want)
			}
		})
	}
	// The trailing newline was not part of alice's password.
	if _, err := runCLI(t, dir, "", "user", "list"); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordStdinNewline(t *testing.T) {
	cases := map[string]string{"pw\n": "pw", "pw\r\n": "pw", "pw": "pw", "pw\n\n": "pw\n", " pw ": " pw "}
	for in, want := range cases {
		got, err := readPassword(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readPassword(%q): got %q %v, want %q", in, got, err, want)
		}
	}
}

// The subcommands that act on an existing account name the one they cannot
// find, and print nothing.
func TestUserCommandsUnknownUser(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"passwd", "new-password-1\n", []string{"user", "passwd", "nobody", "--password-stdin"}},
		{"disable", "", []string{"user", "disable", "nobody"}},
		{"enable", "", []string{"user", "enable", "nobody"}},
		{"role", "", []string{"user", "role", "nobody", "admin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, dir, tc.stdin, tc.args...)
			if want := `no user named "nobody"`; err == nil || err.Error() != want || out != "" {
				t.Fatalf("got %q, %v; want no output and the error %q", out, err, want)
			}
		})
	}
}

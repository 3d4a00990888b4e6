package main

import (
	"os"
	"path/filepath"
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
		{"short password", "short", []string{"user", "add", "erin", "--password-stdin"}, "",
			"the password is too short: it needs at least 8 bytes; choose a longer one, or leave out --password-stdin to have a strong one generated"},
		{"long password", strings.Repeat("p", 1025), []string{"user", "add", "erin", "--password-stdin"}, "", "the password on stdin is longer than 1024 bytes; choose a shorter one"},
		{"invalid name", "correct-horse", []string{"user", "add", "bad name!", "--password-stdin"}, "",
			`"bad name!" is not a valid user name: use 1 to 64 characters of A-Z a-z 0-9 . _ @ -`},
		{"empty stdin", "", []string{"user", "add", "erin", "--password-stdin"}, "",
			`no password on stdin; pipe it in: printf '%s' "$PW" | tether user add NAME --password-stdin`},
		{"passwd: short password", "short", []string{"user", "passwd", "alice", "--password-stdin"}, "",
			"the password is too short: it needs at least 8 bytes; choose a longer one"},
		{"passwd: empty stdin", "", []string{"user", "passwd", "alice", "--password-stdin"}, "",
			`no password on stdin; pipe it in: printf '%s' "$PW" | tether user passwd NAME --password-stdin`},
		{"role: not a role", "", []string{"user", "role", "alice", "superuser"}, "", `"superuser" is not a role: use user or admin`},
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
				if pkgPrefix.MatchString(err.Error()) {
					t.Fatalf("got %q, want no package prefix in it", err)
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
		got, err := readPassword(strings.NewReader(in), "tether user add NAME --password-stdin")
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

// On a fresh machine `tether user add` creates DATA_DIR (mode 0700), as
// serve does, instead of failing with SQLite's "unable to open database
// file".
func TestUserAddFreshDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	out, err := runCLI(t, dir, "correct-horse\n", "user", "add", "bob", "--password-stdin")
	if err != nil || !strings.Contains(out, "created user bob") {
		t.Fatalf("got %q, %v; want bob created", out, err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("DATA_DIR: got %v, %v; want a directory of mode 0700", st, err)
	}
	if out, err := runCLI(t, filepath.Join(t.TempDir(), "other"), "", "user", "list"); err != nil || !strings.HasPrefix(out, "ID") {
		t.Fatalf("user list on a fresh DATA_DIR: got %q, %v; want an empty table", out, err)
	}
}

// A DATA_DIR that cannot be created is one sentence naming it and what to
// do, with the system's reason.
func TestUserAddDataDirNotCreatable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runCLI(t, filepath.Join(file, "data"), "correct-horse\n", "user", "add", "bob", "--password-stdin")
	want := "cannot create DATA_DIR " + filepath.Join(file, "data") + ": not a directory; set DATA_DIR (or --data-dir) to a directory you can write"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

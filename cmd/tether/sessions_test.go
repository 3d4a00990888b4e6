package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetherhq/tether/internal/users"
)

// sessions list and revoke name the account they cannot find, and print
// nothing.
func TestSessionsUnknownUser(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"list", "revoke"} {
		t.Run(sub, func(t *testing.T) {
			out, err := runCLI(t, dir, "", "sessions", sub, "--user", "nobody")
			if want := `no user named "nobody"`; err == nil || err.Error() != want || out != "" {
				t.Fatalf("got %q, %v; want no output and the error %q", out, err, want)
			}
		})
	}
}

// Revoking by an id that names no live session of the user ends nothing,
// says so and fails (exit status 1), instead of "0 session(s) … ended"; no
// session_revoked event is recorded for it.
func TestSessionsRevokeUnknownID(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCLI(t, dir, "carols-password\n", "user", "add", "carol", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	var out, events bytes.Buffer
	err := run(context.Background(), []string{"sessions", "revoke", "--user", "carol", "--id", "zzz"}, env("DATA_DIR", dir), strings.NewReader(""), &out, &events)
	want := "carol has no session with id \"zzz\" (it ended already, or the id is mistyped); see the live ones with `tether sessions list --user carol`"
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}
	var ue usageError
	if errors.As(err, &ue) {
		t.Fatalf("got a usage error (exit status 2), want a plain failure (exit status 1)")
	}
	if out.Len() != 0 || events.Len() != 0 {
		t.Fatalf("got output %q and events %q, want neither", out.String(), events.String())
	}
}

// `sessions revoke --all` goes alone: with --user, --id, a name or list it
// is a usage error (exit status 2) that ends nothing.
func TestSessionsRevokeAllUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sessions", "revoke", "--all", "--user", "carol"},
		{"sessions", "revoke", "--all", "--id", "0123456789abcdef"},
		{"sessions", "revoke", "--all", "carol"},
		{"sessions", "list", "--all"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := runCLI(t, dir, "", args...)
			var ue usageError
			if !errors.As(err, &ue) || out != "" {
				t.Fatalf("got %q, %v; want no output and a usage error", out, err)
			}
		})
	}
}

// `sessions revoke --all` raises every user's credential generation before
// it purges the store (issue 11 row 3: a login in flight is refused at its
// next request), and prints the count.
func TestSessionsRevokeAllRaisesGenerations(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"carol", "dave"} {
		if _, err := runCLI(t, dir, u+"-password\n", "user", "add", u, "--password-stdin"); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCLI(t, dir, "", "sessions", "revoke", "--all")
	if want := "0 session(s) ended: every user's, anonymous ones included\n"; err != nil || out != want {
		t.Fatalf("got %q, %v; want %q", out, err, want)
	}
	d, err := users.Open(filepath.Join(dir, "tether.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	list, err := d.List(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("users: got %d, %v; want 2", len(list), err)
	}
	for _, u := range list {
		if u.Generation != 1 {
			t.Errorf("%s's credential generation: got %d, want 1", u.Username, u.Generation)
		}
	}
}

// issue 11 row 3: the admin commands that end all of a user's sessions
// raise the credential generation before they do (a login in flight is then
// refused at its next request; internal/server's
// TestInFlightLoginDiesWithCredentialChange shows it); the others leave it.
func TestAdminCommandsRaiseGeneration(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCLI(t, dir, "carols-password\n", "user", "add", "carol", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	generation := func() int64 {
		d, err := users.Open(filepath.Join(dir, "tether.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		u, err := d.Get(context.Background(), "carol")
		if err != nil {
			t.Fatal(err)
		}
		return u.Generation
	}
	cases := []struct {
		stdin string
		args  []string
		raise int64
	}{
		{"new-carol-password\n", []string{"user", "passwd", "carol", "--password-stdin"}, 1},
		{"", []string{"user", "disable", "carol"}, 1},
		{"", []string{"user", "enable", "carol"}, 0},
		{"", []string{"user", "role", "carol", "admin"}, 0},
		{"", []string{"sessions", "revoke", "--user", "carol"}, 1},
		{"", []string{"sessions", "list", "--user", "carol"}, 0},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			before := generation()
			if _, err := runCLI(t, dir, tc.stdin, tc.args...); err != nil {
				t.Fatal(err)
			}
			if got := generation() - before; got != tc.raise {
				t.Fatalf("generation raised by %d, want %d", got, tc.raise)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
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

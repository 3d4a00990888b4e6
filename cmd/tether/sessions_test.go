package main

import "testing"

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

package main

import (
	"os"
	"strings"
	"testing"
)

// serve warns at start about a DATA_DIR that other users can enter, and
// says nothing about one closed to them.
func TestServeWarnsAboutOpenDataDir(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o755, true}, {0o700, false}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			in := start(t, dir, env())
			in.stop()
			if got := strings.Contains(in.stderr.String(), "is open to other users"); got != tc.warn {
				t.Fatalf("warning in the log: got %v, want %v:\n%s", got, tc.warn, in.stderr)
			}
		})
	}
}

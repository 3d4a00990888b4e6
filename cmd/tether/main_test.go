package main

import (
	"errors"
	"strings"
	"testing"
)

func TestVersionPrefix(t *testing.T) {
	if out, err := runCLI(t, t.TempDir(), "", "version"); err != nil || !strings.HasPrefix(out, "tether ") {
		t.Fatalf("version: got %q %v", out, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "extra"}, {"serve", "--port", "x"}, {"serve", "--nope"}} {
		_, err := runCLI(t, t.TempDir(), "", args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}

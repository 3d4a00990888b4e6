package main

import (
	"regexp"
	"testing"
)

func TestSecretGenerate(t *testing.T) {
	out, err := runCLI(t, t.TempDir(), "", "secret", "generate")
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{128}\n$`).MatchString(out) {
		t.Fatalf("secret generate: got %q %v, want 128 hex digits", out, err)
	}
}

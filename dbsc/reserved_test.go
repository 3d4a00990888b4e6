package dbsc_test

import (
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
)

// This is an external test package: the session wiring may make tether
// import dbsc, and an internal test importing tether would then be a cycle.

// The session keys of challenges are tether-reserved: the application's data
// API can neither read nor forge them.
func TestChallengeKeyReserved(t *testing.T) {
	const ch = "the-challenge-value"
	k := dbsc.ChallengeKey(dbsc.ChallengeDigest(ch))
	if !strings.HasPrefix(k, tether.ReservedKeyPrefix) || strings.Contains(k, ch) {
		t.Fatalf("got key %q, want it under %q and holding a digest, not the challenge", k, tether.ReservedKeyPrefix)
	}
	if got, want := len(dbsc.ChallengeDigest("c")), 43; got != want {
		t.Fatalf("digest length %d, want %d", got, want)
	}
}

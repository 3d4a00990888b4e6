package tether_test

import (
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/renewtest"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/storetest"
)

// The wrapped store keeps the whole Store contract, increments included.
func TestEncryptStoreConformance(t *testing.T) {
	keys := [][]byte{newEncKey(t), newEncKey(t)}
	storetest.Run(t, func(t *testing.T) tether.Store { return encrypt(t, memstore.New(), keys...) })
}

// Renewal through the encrypting store: the renewal state is sealed like
// every value, and its compare-and-set (Patch.Expect) is translated by the
// wrapper; a renewal must still happen once, and a replayed cookie must
// still end the session (issue 11 deliverables 3 and 4 together).
func TestEncryptStoreRenewal(t *testing.T) {
	renewtest.Run(t, encrypt(t, memstore.New(), newEncKey(t)))
}

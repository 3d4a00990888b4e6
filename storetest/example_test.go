package storetest_test

import (
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/storetest"
)

// A store of your own proves it keeps tether's contract (no resurrection,
// no lost updates, exact increments, deadlines, the per-user index) by
// running the suite from a test in its package. newStore is called once per
// subtest and must return an empty store that nothing else uses.
func ExampleRun() {
	// In mystore_test.go:
	testConformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) tether.Store {
			s := memstore.New() // mystore.Open(…) with a fresh database or key prefix
			return s
		})
	}
	_ = testConformance
}

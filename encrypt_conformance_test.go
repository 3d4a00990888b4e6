package tether_test

import (
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/storetest"
)

// The wrapped store keeps the whole Store contract, increments included.
func TestEncryptStoreConformance(t *testing.T) {
	keys := [][]byte{newEncKey(t), newEncKey(t)}
	storetest.Run(t, func(t *testing.T) tether.Store { return encrypt(t, memstore.New(), keys...) })
}

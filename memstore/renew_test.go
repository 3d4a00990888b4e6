package memstore_test

import (
	"testing"

	"github.com/tetherhq/tether/internal/testenv/renewtest"
	"github.com/tetherhq/tether/memstore"
)

// Renewal with theft detection on memstore (issue 11.3).
func TestRenewal(t *testing.T) {
	renewtest.Run(t, memstore.New())
}

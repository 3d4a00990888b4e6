package servemux_test

import (
	"testing"

	"github.com/tetherhq/tether/examples/internal/exampletest"
	"github.com/tetherhq/tether/examples/servemux"
)

// TestLoginCounterLogout signs in, counts, signs out, through a real server
// and a cookie jar (see exampletest.APIFlow for every step).
func TestLoginCounterLogout(t *testing.T) {
	m := exampletest.Manager(t)
	h, err := servemux.New(m)
	if err != nil {
		t.Fatalf("servemux.New: %v", err)
	}
	exampletest.APIFlow(t, h, m.CookieName())
}

package chiapp_test

import (
	"testing"

	chiapp "github.com/tetherhq/tether/examples/chi"
	"github.com/tetherhq/tether/examples/internal/exampletest"
)

// TestLoginCounterLogout signs in, counts, signs out, through a real server
// and a cookie jar (see exampletest.APIFlow for every step).
func TestLoginCounterLogout(t *testing.T) {
	m := exampletest.Manager(t)
	h, err := chiapp.New(m)
	if err != nil {
		t.Fatalf("chiapp.New: %v", err)
	}
	exampletest.APIFlow(t, h, m.CookieName())
}

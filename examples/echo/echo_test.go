package echoapp_test

import (
	"net/http"
	"testing"

	echoapp "github.com/tetherhq/tether/examples/echo"
	"github.com/tetherhq/tether/examples/internal/exampletest"
)

// TestLoginCounterLogout signs in, counts, signs out, through a real server
// and a cookie jar (see exampletest.APIFlow for every step).
func TestLoginCounterLogout(t *testing.T) {
	m := exampletest.Manager(t)
	e, err := echoapp.New(m)
	if err != nil {
		t.Fatalf("echoapp.New: %v", err)
	}
	exampletest.APIFlow(t, e, m.CookieName())
}

// An unknown path is 404, not the signed-in check's 401.
func TestUnknownPathIsNotFound(t *testing.T) {
	e, err := echoapp.New(exampletest.Manager(t))
	if err != nil {
		t.Fatalf("echoapp.New: %v", err)
	}
	exampletest.NewBrowser(t, e).Expect("GET", "/nowhere", nil, http.StatusNotFound)
}

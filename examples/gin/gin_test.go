package ginapp_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	ginapp "github.com/tetherhq/tether/examples/gin"
	"github.com/tetherhq/tether/examples/internal/exampletest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug route listing in test output
	os.Exit(m.Run())
}

// TestLoginCounterLogout signs in, counts, signs out, through a real server
// and a cookie jar (see exampletest.APIFlow for every step).
func TestLoginCounterLogout(t *testing.T) {
	m := exampletest.Manager(t)
	h, err := ginapp.New(m)
	if err != nil {
		t.Fatalf("ginapp.New: %v", err)
	}
	exampletest.APIFlow(t, h, m.CookieName())
}

// Gin answers an unknown path with its 404, through tether and the CSRF
// check: the session middleware around the engine changes nothing there.
func TestUnknownPathIsNotFound(t *testing.T) {
	h, err := ginapp.New(exampletest.Manager(t))
	if err != nil {
		t.Fatalf("ginapp.New: %v", err)
	}
	exampletest.NewBrowser(t, h).Expect("GET", "/nowhere", nil, http.StatusNotFound)
}

package ginapp_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/tetherhq/tether"
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

// Why the session middleware wraps the engine instead of sitting in gin's
// chain: the obvious gin.HandlerFunc adapter leaves c.Writer past tether's
// writer, so gin sends the headers before tether adds Set-Cookie, and the
// login's new session never reaches the browser.
func TestHandlerFuncAdapterLosesTheCookie(t *testing.T) {
	m := exampletest.Manager(t)
	login := func(c *gin.Context) {
		if err := tether.FromContext(c.Request.Context()).Login("user-1", "user"); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": "alice"})
	}
	naive := func(mw func(http.Handler) http.Handler) gin.HandlerFunc {
		return func(c *gin.Context) {
			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.Request = r // c.Writer stays gin's own: w is ignored
				c.Next()
			})).ServeHTTP(c.Writer, c.Request)
		}
	}
	for _, tc := range []struct {
		name       string
		handler    func() http.Handler
		wantCookie bool
	}{
		{"gin.HandlerFunc adapter", func() http.Handler {
			r := gin.New()
			r.Use(naive(m.Handler))
			r.POST("/login", login)
			return r
		}, false},
		{"engine inside m.Handler", func() http.Handler {
			r := gin.New()
			r.POST("/login", login)
			return m.Handler(r)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := exampletest.NewBrowser(t, tc.handler())
			b.Expect("POST", "/login", nil, http.StatusOK, `"user":"alice"`)
			if got := b.SessionCookie(m.CookieName()) != ""; got != tc.wantCookie {
				t.Fatalf("session cookie after login: got %v, want %v", got, tc.wantCookie)
			}
		})
	}
}

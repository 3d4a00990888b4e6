package tether_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

type fakePersistentStore struct{ tether.Store }

// wrappedStore is a store wrapper (metrics, tracing) that says what it wraps.
type wrappedStore struct{ tether.Store }

func (w wrappedStore) Unwrap() tether.Store { return w.Store }

func TestNewRejectsMisconfiguration(t *testing.T) {
	persistent := fakePersistentStore{memstore.New()}
	good := func() tether.Config {
		return tether.Config{Store: persistent, Secrets: [][]byte{secretA}}
	}
	cases := []struct {
		name string
		mod  func(*tether.Config)
		want string // substring of the error; "" means New must succeed
	}{
		{"defaults are valid", func(c *tether.Config) {}, ""},
		{"production defaults are valid", func(c *tether.Config) { c.Production = true }, ""},
		{"no store", func(c *tether.Config) { c.Store = nil }, "Config.Store is required"},
		{"no secret", func(c *tether.Config) { c.Secrets = nil }, "Config.Secrets is required"},
		{"empty secret", func(c *tether.Config) { c.Secrets = [][]byte{{}} }, "Secrets[0] is empty"},
		{"short secret in production", func(c *tether.Config) { c.Production = true; c.Secrets = [][]byte{[]byte("short")} }, "production needs at least 32"},
		{"short previous secret in production", func(c *tether.Config) {
			c.Production = true
			c.Secrets = [][]byte{secretA, []byte("short")}
		}, "Secrets[1]"},
		{"memstore in production", func(c *tether.Config) { c.Production = true; c.Store = memstore.New() }, "development only"},
		// Regression: the server's metrics wrapper hid memstore's mark, so a
		// wrapped memstore passed the production check.
		{"wrapped memstore in production", func(c *tether.Config) {
			c.Production = true
			c.Store = wrappedStore{wrappedStore{memstore.New()}}
		}, "*memstore.Store is for development only"},
		{"wrapped persistent store in production", func(c *tether.Config) { c.Production = true; c.Store = wrappedStore{persistent} }, ""},
		{"__Host- without Secure", func(c *tether.Config) { c.CookieName = "__Host-sid" }, "__Host- prefix, which browsers accept only with Secure"},
		{"__Host- with Domain", func(c *tether.Config) { c.Production = true; c.Domain = "example.com" }, "forbids a Domain"},
		{"__Secure- without Secure", func(c *tether.Config) { c.CookieName = "__Secure-sid" }, "__Secure- prefix"},
		{"SameSite None without Secure", func(c *tether.Config) { c.SameSite = http.SameSiteNoneMode }, "SameSite None requires Secure"},
		{"invalid cookie name", func(c *tether.Config) { c.CookieName = "s id" }, "not a valid cookie name"},
		{"idle below a second", func(c *tether.Config) { c.IdleTimeout = time.Millisecond }, "IdleTimeout"},
		{"absolute shorter than idle", func(c *tether.Config) { c.IdleTimeout = time.Hour; c.AbsoluteTimeout = time.Minute }, "AbsoluteTimeout"},
		{"zero role timeout", func(c *tether.Config) { c.RoleAbsoluteTimeouts = map[string]time.Duration{"admin": 0} }, `RoleAbsoluteTimeouts["admin"]`},
		{"tiny cookie limit", func(c *tether.Config) { c.MaxCookieBytes = 10 }, "MaxCookieBytes"},
		{"path for one app", func(c *tether.Config) { c.Path = "/app" }, ""},
		{"relative path", func(c *tether.Config) { c.Path = "app" }, "Config.Path \"app\" is not a cookie path"},
		{"path with a semicolon", func(c *tether.Config) { c.Path = "/a; Domain=evil.example" }, "is not a cookie path"},
		{"path with a control character", func(c *tether.Config) { c.Path = "/a\r\nX: y" }, "is not a cookie path"},
		{"__Host- with a path", func(c *tether.Config) { c.Production = true; c.Path = "/app" }, "accept only with Path /"},
		{"__Host- with Path /", func(c *tether.Config) { c.Production = true; c.Path = "/" }, ""},
		{"partitioned embed", func(c *tether.Config) {
			c.Production = true
			c.SameSite = http.SameSiteNoneMode
			c.Partitioned = true
		}, ""},
		{"partitioned without Secure", func(c *tether.Config) { c.SameSite = http.SameSiteNoneMode; c.Partitioned = true }, "Config.Partitioned requires Secure"},
		{"partitioned with SameSite Lax", func(c *tether.Config) { c.Secure = true; c.Partitioned = true }, "Config.Partitioned needs SameSite None"},
		{"session cookie mode", func(c *tether.Config) { c.CookieMode = tether.CookieSession }, ""},
		{"unknown cookie mode", func(c *tether.Config) { c.CookieMode = 7 }, "Config.CookieMode CookieMode(7) is not CookieRolling, CookieSession or CookiePersistent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.mod(&cfg)
			m, err := tether.New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: got error %v, want success", err)
			case tc.want != "" && err == nil:
				t.Fatalf("New: got success, want error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("New: got error %q, want it to contain %q", err, tc.want)
			}
			if err != nil && bytes.Contains([]byte(err.Error()), secretA) {
				t.Fatalf("error %q contains the secret", err)
			}
			if tc.name == "production defaults are valid" && m.CookieName() != "__Host-sid" {
				t.Fatalf("production cookie name: got %q, want __Host-sid", m.CookieName())
			}
		})
	}
}

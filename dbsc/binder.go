package dbsc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tetherhq/tether"
)

// Defaults of [Config].
const (
	// DefaultCookieTTL is the bound cookie's lifetime
	// (SESSION_DBSC_COOKIE_TTL in the reference server): Chrome refreshes
	// 120 s before expiry and signs at most 6 times per 9 minutes, so 10
	// minutes means one signature about every 8 minutes.
	DefaultCookieTTL = 10 * time.Minute
	// MinCookieTTL is the shortest lifetime [New] accepts. Below it the
	// browser would refresh on nearly every request (its 120 s lead is
	// longer than the cookie's life) and run into its signing quota.
	MinCookieTTL = 10 * time.Second
	// DefaultRegisterPath and DefaultRefreshPath are the reference
	// server's routes (DESIGN "Contract additions").
	DefaultRegisterPath = "/dbsc/register"
	DefaultRefreshPath  = "/dbsc/refresh"
	// BoundCookieSuffix is appended to the session cookie's name to name
	// the bound cookie ("__Host-sid" gives "__Host-sid-dbsc", keeping the
	// prefix and its guarantees).
	BoundCookieSuffix = "-dbsc"
)

// Config configures a [Binder]. The zero value is usable: every field has a
// default.
type Config struct {
	// CookieTTL is the bound cookie's lifetime. Default [DefaultCookieTTL];
	// anything below [MinCookieTTL] is refused by [New].
	CookieTTL time.Duration
	// ChallengeTTL is how long a challenge can be answered. Default
	// [DefaultChallengeTTL].
	ChallengeTTL time.Duration
	// RegisterPath and RefreshPath are the routes where the application
	// mounts [Binder.Register] and [Binder.Refresh]. Defaults
	// [DefaultRegisterPath] and [DefaultRefreshPath]. Each must be an
	// absolute path of printable ASCII.
	RegisterPath, RefreshPath string
	// Exempt lists exact paths that [Binder.Enforce] lets through without
	// the bound cookie, besides RefreshPath (always exempt: it is how the
	// browser gets a new cookie). Put the logout route here: ending a
	// session must stay possible for a browser whose refresh failed, and a
	// thief who holds the session cookie gains nothing from it but the end
	// of the stolen session.
	Exempt []string
	// Scheme tells whether a request reached the application over "https"
	// or "http" (a TLS-terminating proxy: pass its trusted
	// X-Forwarded-Proto reader). Default: "https" when r.TLS is set.
	// Registration is offered over HTTPS only: browsers register only from
	// a secure context with a trusted certificate (Chromium ignores the
	// offer over http://localhost and with certificate errors), and a
	// bound cookie is always Secure.
	Scheme func(r *http.Request) string
	// Refuse answers a request that [Binder.Enforce] refuses. Default: 401
	// with a JSON error. A server with pages gives a 303 to its sign-in
	// page to requests that prefer HTML.
	Refuse func(w http.ResponseWriter, r *http.Request)
}

// Binder is Device Bound Session Credentials for one [tether.Manager]: it
// offers registration ([Binder.Offer]), serves the registration and refresh
// endpoints ([Binder.Register], [Binder.Refresh]) and refuses a bound
// session presented without its bound cookie ([Binder.Enforce]). All its
// state lives in the sessions' values, under
// [tether.DeviceBindingKeyPrefix], so it works with every store and every
// instance that shares the secrets. Safe for concurrent use.
type Binder struct {
	m      *tether.Manager
	cfg    Config // defaults applied: every field set
	cookie *boundCookie
	attrs  string // the bound cookie's attributes, as in the instructions
	exempt map[string]bool
}

// New returns a Binder for m. Misconfiguration is reported here, naming the
// field.
func New(m *tether.Manager, cfg Config) (*Binder, error) {
	if m == nil {
		return nil, errors.New("dbsc: New needs a *tether.Manager")
	}
	var bad []string
	switch {
	case cfg.CookieTTL == 0:
		cfg.CookieTTL = DefaultCookieTTL
	case cfg.CookieTTL < MinCookieTTL:
		bad = append(bad, fmt.Sprintf("Config.CookieTTL %v is below the minimum %v (Chrome refreshes 120 s before expiry)", cfg.CookieTTL, MinCookieTTL))
	}
	if cfg.ChallengeTTL < 0 {
		bad = append(bad, "Config.ChallengeTTL must not be negative")
	}
	if cfg.RegisterPath == "" {
		cfg.RegisterPath = DefaultRegisterPath
	}
	if cfg.RefreshPath == "" {
		cfg.RefreshPath = DefaultRefreshPath
	}
	for _, p := range []struct{ name, path string }{{"RegisterPath", cfg.RegisterPath}, {"RefreshPath", cfg.RefreshPath}} {
		if !validPath(p.path) {
			bad = append(bad, fmt.Sprintf("Config.%s %q must be an absolute path of printable ASCII without quotes, ';' or ','", p.name, p.path))
		}
	}
	if len(bad) > 0 {
		return nil, errors.New("dbsc: " + strings.Join(bad, "; "))
	}
	ca := m.CookieAttributes()
	if cfg.Refuse == nil {
		cfg.Refuse = func(w http.ResponseWriter, r *http.Request) {
			tether.WriteJSONError(w, http.StatusUnauthorized, "This session is bound to a device: its device-bound cookie is missing or expired")
		}
	}
	if cfg.Scheme == nil {
		cfg.Scheme = func(r *http.Request) string {
			if r.TLS != nil {
				return "https"
			}
			return "http"
		}
	}
	b := &Binder{m: m, cfg: cfg, exempt: map[string]bool{cfg.RefreshPath: true}}
	for _, p := range cfg.Exempt {
		b.exempt[p] = true
	}
	b.cookie = newBoundCookie(ca.Name+BoundCookieSuffix, m.DeriveKeys(cookieKeyLabel))
	b.attrs = cookieAttributes(ca)
	return b, nil
}

// CookieName returns the bound cookie's name: the session cookie's name
// followed by [BoundCookieSuffix].
func (b *Binder) CookieName() string { return b.cookie.name }

// CookieTTL returns the bound cookie's lifetime.
func (b *Binder) CookieTTL() time.Duration { return b.cfg.CookieTTL }

// cookieAttributes renders the bound cookie's attributes after the session
// cookie's: same Path, Domain and SameSite, always HttpOnly and Secure
// (registration happens over HTTPS only, see Config.Scheme).
func cookieAttributes(ca tether.CookieAttributes) string {
	var sb strings.Builder
	sb.WriteString("Path=")
	sb.WriteString(ca.Path)
	if ca.Domain != "" {
		sb.WriteString("; Domain=")
		sb.WriteString(ca.Domain)
	}
	sb.WriteString("; Secure; HttpOnly; SameSite=")
	switch ca.SameSite {
	case http.SameSiteStrictMode:
		sb.WriteString("Strict")
	case http.SameSiteNoneMode:
		sb.WriteString("None")
	default:
		sb.WriteString("Lax")
	}
	return sb.String()
}

// validPath reports whether p can be an offer's path and a refresh_url: an
// absolute path that an sf-string carries and a cookie attribute cannot
// be confused by.
func validPath(p string) bool {
	if len(p) == 0 || len(p) > 256 || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == ';' || c == ',' {
			return false
		}
	}
	return true
}

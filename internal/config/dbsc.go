package config

import (
	"fmt"
	"time"
)

// DBSC settings (Device Bound Session Credentials, package dbsc; DESIGN
// "Contract additions"):
//
//	SESSION_DBSC             on     on or off
//	SESSION_DBSC_COOKIE_TTL  10m    Go duration, >= 10s: the device-bound cookie's lifetime
const (
	DefaultDBSCCookieTTL = 10 * time.Minute
	// MinDBSCCookieTTL is the shortest SESSION_DBSC_COOKIE_TTL accepted
	// (dbsc.MinCookieTTL).
	MinDBSCCookieTTL = 10 * time.Second
	// DBSCCookieTTLWarn is the lifetime under which tether doctor warns:
	// Chrome refreshes 120 s before expiry and signs at most 6 times per
	// 9 minutes per site, so a shorter cookie runs into that quota.
	DBSCCookieTTLWarn = 5 * time.Minute
)

// DBSC is the reference server's DBSC configuration.
type DBSC struct {
	// Enabled is SESSION_DBSC: registration offered on sign-in, the
	// /dbsc/register and /dbsc/refresh routes served, bound sessions
	// enforced. Off: none of it, and sessions bound earlier are no longer
	// checked (turning it off removes the protection, not the sessions).
	Enabled bool
	// CookieTTL is SESSION_DBSC_COOKIE_TTL.
	CookieTTL time.Duration
}

// parseDBSC reads SESSION_DBSC and SESSION_DBSC_COOKIE_TTL through get and
// reports problems through bad, naming the variable.
func parseDBSC(get func(string) string, bad func(string, ...any)) DBSC {
	d := DBSC{Enabled: true, CookieTTL: DefaultDBSCCookieTTL}
	switch v := get("SESSION_DBSC"); v {
	case "", "on":
	case "off":
		d.Enabled = false
	default:
		bad("SESSION_DBSC: %q is not on or off", v)
	}
	if raw := get("SESSION_DBSC_COOKIE_TTL"); raw != "" {
		ttl, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			bad("SESSION_DBSC_COOKIE_TTL: %q is not a Go duration (e.g. 10m)", raw)
		case ttl < MinDBSCCookieTTL:
			bad("SESSION_DBSC_COOKIE_TTL: %v is under the %v minimum (Chrome refreshes the cookie 120 s before it expires; 10m is the default)", ttl, MinDBSCCookieTTL)
		default:
			d.CookieTTL = ttl
		}
	}
	return d
}

// DBSCWarning returns what tether doctor says about the DBSC settings, ""
// when there is nothing to warn about.
func (c *Config) DBSCWarning() string {
	if c.DBSC.Enabled && c.DBSC.CookieTTL < DBSCCookieTTLWarn {
		return fmt.Sprintf("SESSION_DBSC_COOKIE_TTL %v is under %v: Chrome refreshes 120 s before expiry and signs at most 6 times per 9 minutes, so refreshes may be refused and bound sessions fall back to signing in again", c.DBSC.CookieTTL, DBSCCookieTTLWarn)
	}
	return ""
}

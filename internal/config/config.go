// Package config loads the reference server's configuration from the
// environment and a .env file, with the variable names of DESIGN.md's
// "Reference server contract".
//
// Sources: Load reads the .env file first (see parseDotenv for the format),
// then the real environment, which wins for every variable it sets to a
// non-empty value. Defaults fill the rest:
//
//	APP_ENV                         development   (or production)
//	HOST                            127.0.0.1     listen address
//	PORT                            3000          0 picks a free port
//	DATA_DIR                        ./data        SQLite database, dev secret
//	REDIS_URL, DATABASE_URL         unset
//	SESSION_STORE                   redis with REDIS_URL, else sqlite; or postgres
//	SESSION_SECRET                  dev: generated once into DATA_DIR
//	SESSION_SECRET_PREVIOUS         unset         comma list, newest first
//	SESSION_ENCRYPTION_KEY          unset         64 hex digits: values stored encrypted
//	SESSION_ENCRYPTION_KEY_PREVIOUS unset         comma list, newest first: still decrypt
//	SESSION_IDLE_TIMEOUT            30m           Go durations, > 0,
//	SESSION_ABSOLUTE_TIMEOUT        8h            idle <= absolute
//	SESSION_ADMIN_ABSOLUTE_TIMEOUT  1h
//	SESSION_REAUTH_WINDOW           10m
//	SESSION_MAX_PER_USER            10            >= 1
//	SESSION_ANON_IDLE_TIMEOUT       5m            <= idle (unset: at most idle)
//	SESSION_CREATE_PER_IP           120           per minute; 0 turns it off
//	SESSION_COOKIE_MODE             rolling       rolling, session or persistent
//	SESSION_RENEW_INTERVAL          15m           Go duration; 0 turns renewal off
//	SESSION_RENEW_GRACE             30s           > 0, shorter than the interval
//	LOGIN_MAX_FAILURES              10            per account and window, >= 1
//	LOGIN_MAX_FAILURES_PER_IP       100           per client IP and window, >= 1
//	LOGIN_THROTTLE_WINDOW           15m           Go duration
//	TRUST_PROXY                     unset         hop count or IP/CIDR list
//	CSRF_TRUSTED_ORIGINS            unset         comma list of scheme://host[:port]
//	SESSION_DBSC                    on            on or off (device-bound sessions, dbsc.go)
//	SESSION_DBSC_COOKIE_TTL         10m           Go duration, >= 10s
//
// Threat model: configuration holds secrets (the signing secrets, and
// passwords inside REDIS_URL and DATABASE_URL) and ends up in logs through
// error messages. Every error names the variable and what it expects; the
// values of SESSION_SECRET, SESSION_SECRET_PREVIOUS, SESSION_ENCRYPTION_KEY,
// SESSION_ENCRYPTION_KEY_PREVIOUS, REDIS_URL and DATABASE_URL never appear in an error or a warning, and .env parse errors
// name a line, never its text. The development secret file is created with
// mode 0600 and refused when other users can read it.
//
// A Config is a plain value: read it from any goroutine, but do not change it
// while others read it. Secrets may write the development secret file and
// is safe to call from several processes at once (they agree on one secret).
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tetherhq/tether"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Session stores (SESSION_STORE): where sessions live. StoreSQLite is the
// embedded file in DATA_DIR, StoreRedis is at REDIS_URL and StorePostgres
// at DATABASE_URL. Unset, Load picks StoreRedis when REDIS_URL is set, else
// StoreSQLite; it refuses a store whose URL is unset.
const (
	StoreSQLite   = "sqlite"
	StoreRedis    = "redis"
	StorePostgres = "postgres"
)

// MinIdleTimeout is the shortest SESSION_IDLE_TIMEOUT: cookie lifetimes are
// whole seconds.
const MinIdleTimeout = time.Second

// Config is the server's configuration. Load fills and validates it.
type Config struct {
	Env           string // APP_ENV: Development or Production
	Host          string // HOST: listen address
	Port          int    // PORT: 0-65535; 0 picks a free port (tests)
	DataDir       string // DATA_DIR
	RedisURL      string // REDIS_URL: secret (may hold a password)
	DatabaseURL   string // DATABASE_URL: secret (may hold a password)
	SessionStore  string // SESSION_STORE: StoreSQLite, StoreRedis or StorePostgres; never empty after Load
	SessionSecret string // SESSION_SECRET: secret; see Secrets
	// SESSION_SECRET_PREVIOUS split at commas, entries trimmed, empty ones
	// dropped (so a secret cannot contain a comma; generated ones are hex).
	// Secret.
	SessionSecretPrevious []string
	IdleTimeout           time.Duration
	AbsoluteTimeout       time.Duration
	AdminAbsoluteTimeout  time.Duration
	ReauthWindow          time.Duration
	MaxPerUser            int
	// Anonymous sessions (issue 11 row 5): SESSION_ANON_IDLE_TIMEOUT, the
	// idle timeout of sessions that never logged in (default 5m, or
	// IdleTimeout if shorter; see [tether.Config.AnonymousIdleTimeout]),
	// and SESSION_CREATE_PER_IP, the new anonymous sessions one client IP
	// (IPv6: one /64) may create per minute (default 120; 0 = no limit).
	AnonIdleTimeout time.Duration
	CreatePerIP     int
	// Login throttling: failed logins allowed per account and per client IP
	// within LoginWindow before 429 (LOGIN_MAX_FAILURES,
	// LOGIN_MAX_FAILURES_PER_IP, LOGIN_THROTTLE_WINDOW).
	LoginMaxFailures      int
	LoginMaxFailuresPerIP int
	LoginWindow           time.Duration
	TrustProxy            TrustProxy
	// CSRF_TRUSTED_ORIGINS: origins ("https://app.example.com") whose
	// browsers may make cross-origin unsafe requests.
	TrustedOrigins []string
	// METRICS_ADDR: when set (host:port), /metrics is served there instead
	// of on the main listener.
	MetricsAddr string
	// SESSION_BINDING: "flag" (default) logs a change of user agent or
	// network mid-session and requires re-authentication for sensitive
	// actions; "strict" ends the session instead; "off" disables the check.
	Binding string
	// SESSION_COOKIE_MODE: how long the browser keeps the session cookie
	// (see [tether.CookieMode]): "rolling" (default: Max-Age = idle time
	// left), "session" (gone when the browser closes) or "persistent"
	// (Max-Age = absolute lifetime left).
	CookieMode tether.CookieMode
	// SESSION_RENEW_INTERVAL: a live session's cookie gets a new secret on
	// its first request after this long ([tether.Config.RenewInterval]);
	// "0" turns renewal off, and RenewInterval is then [tether.RenewOff].
	RenewInterval time.Duration
	// SESSION_RENEW_GRACE: how long a replaced cookie still works, for
	// requests in flight; presented later it ends the session (token_reuse).
	RenewGrace time.Duration
	// EncryptionKeys: SESSION_ENCRYPTION_KEY then the entries of
	// SESSION_ENCRYPTION_KEY_PREVIOUS, decoded (32 bytes each), for
	// tether.Config.EncryptionKeys; nil (encryption off) when unset. Secret.
	EncryptionKeys [][]byte
	// DBSC is SESSION_DBSC and SESSION_DBSC_COOKIE_TTL (dbsc.go).
	DBSC DBSC
}

// Production reports whether APP_ENV is production.
func (c *Config) Production() bool { return c.Env == Production }

// Load reads the .env file at dotenvPath (an empty path or a missing file is
// fine), then the environment through getenv (nil means os.Getenv), which
// wins, applies the defaults and validates the result. getenv cannot tell an
// unset variable from an empty one, so an empty value in the environment
// does not override .env. All problems are reported at once, one per
// variable, joined with "; ".
func Load(getenv func(string) string, dotenvPath string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	file, err := readDotenv(dotenvPath)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	get := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return file[k]
	}
	c := &Config{}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }

	c.Env = or(get("APP_ENV"), Development)
	if c.Env != Development && c.Env != Production {
		bad("APP_ENV: %q is neither development nor production", c.Env)
	}
	c.Host = or(get("HOST"), "127.0.0.1")
	raw := or(get("PORT"), "3000")
	p, err := strconv.Atoi(raw)
	if err != nil || p < 0 || p > 65535 {
		bad("PORT: %q is not a port number (1-65535, or 0 for any free port)", raw)
	}
	c.Port = p
	c.DataDir = or(get("DATA_DIR"), "./data")

	c.RedisURL = get("REDIS_URL")
	if msg := checkSecretURL(c.RedisURL, "redis", "rediss", "unix"); msg != "" {
		bad("REDIS_URL: %s (value not shown: it may hold a password)", msg)
	}
	c.DatabaseURL = get("DATABASE_URL")
	if msg := checkSecretURL(c.DatabaseURL, "postgres", "postgresql"); msg != "" {
		bad("DATABASE_URL: %s (value not shown: it may hold a password)", msg)
	}

	c.SessionStore = get("SESSION_STORE")
	switch c.SessionStore {
	case "":
		c.SessionStore = StoreSQLite
		if c.RedisURL != "" {
			c.SessionStore = StoreRedis
		}
	case StoreSQLite:
	case StoreRedis:
		if c.RedisURL == "" {
			bad("SESSION_STORE: redis keeps sessions at REDIS_URL, which is not set")
		}
	case StorePostgres:
		if c.DatabaseURL == "" {
			bad("SESSION_STORE: postgres keeps sessions at DATABASE_URL, which is not set")
		}
	default:
		bad("SESSION_STORE: %q is not sqlite, redis or postgres", c.SessionStore)
	}

	c.SessionSecret = get("SESSION_SECRET")
	for _, s := range strings.Split(get("SESSION_SECRET_PREVIOUS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.SessionSecretPrevious = append(c.SessionSecretPrevious, s)
		}
	}
	keys, keyErrs := parseEncryptionKeys(get("SESSION_ENCRYPTION_KEY"), get("SESSION_ENCRYPTION_KEY_PREVIOUS"))
	c.EncryptionKeys, errs = keys, append(errs, keyErrs...)

	dur := func(name, def string) time.Duration {
		raw := or(get(name), def)
		d, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			bad("%s: %q is not a Go duration (e.g. %s)", name, raw, def)
		case d <= 0:
			bad("%s: %q must be positive (e.g. %s)", name, raw, def)
		}
		return d
	}
	c.IdleTimeout = dur("SESSION_IDLE_TIMEOUT", "30m")
	c.AbsoluteTimeout = dur("SESSION_ABSOLUTE_TIMEOUT", "8h")
	c.AdminAbsoluteTimeout = dur("SESSION_ADMIN_ABSOLUTE_TIMEOUT", "1h")
	c.ReauthWindow = dur("SESSION_REAUTH_WINDOW", "10m")
	if c.IdleTimeout > 0 && c.IdleTimeout < MinIdleTimeout {
		bad("SESSION_IDLE_TIMEOUT: %v is under the %v minimum", c.IdleTimeout, MinIdleTimeout)
	}
	if c.IdleTimeout > 0 && c.AbsoluteTimeout > 0 && c.IdleTimeout > c.AbsoluteTimeout {
		bad("SESSION_IDLE_TIMEOUT (%v) must not exceed SESSION_ABSOLUTE_TIMEOUT (%v)", c.IdleTimeout, c.AbsoluteTimeout)
	}

	c.AnonIdleTimeout = min(tether.DefaultAnonymousIdleTimeout, c.IdleTimeout)
	if get("SESSION_ANON_IDLE_TIMEOUT") != "" {
		c.AnonIdleTimeout = dur("SESSION_ANON_IDLE_TIMEOUT", "5m")
		switch {
		case c.AnonIdleTimeout > 0 && c.AnonIdleTimeout < MinIdleTimeout:
			bad("SESSION_ANON_IDLE_TIMEOUT: %v is under the %v minimum", c.AnonIdleTimeout, MinIdleTimeout)
		case c.AnonIdleTimeout > c.IdleTimeout && c.IdleTimeout > 0:
			bad("SESSION_ANON_IDLE_TIMEOUT (%v) must not exceed SESSION_IDLE_TIMEOUT (%v)", c.AnonIdleTimeout, c.IdleTimeout)
		}
	}
	raw = or(get("SESSION_CREATE_PER_IP"), "120")
	if n, err := strconv.Atoi(raw); err != nil || n < 0 {
		bad("SESSION_CREATE_PER_IP: %q is not a whole number >= 0 (new sessions per client IP and minute; 0 turns the limit off)", raw)
	} else {
		c.CreatePerIP = n
	}

	raw = or(get("SESSION_MAX_PER_USER"), "10")
	m, err := strconv.Atoi(raw)
	if err != nil || m < 1 {
		bad("SESSION_MAX_PER_USER: %q is not a whole number >= 1", raw)
	}
	c.MaxPerUser = m

	count := func(name, def string) int {
		raw := or(get(name), def)
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			bad("%s: %q is not a whole number >= 1 (e.g. %s)", name, raw, def)
		}
		return n
	}
	c.LoginMaxFailures = count("LOGIN_MAX_FAILURES", "10")
	c.LoginMaxFailuresPerIP = count("LOGIN_MAX_FAILURES_PER_IP", "100")
	c.LoginWindow = dur("LOGIN_THROTTLE_WINDOW", "15m")

	tp, err := ParseTrustProxy(get("TRUST_PROXY"))
	if err != nil {
		bad("TRUST_PROXY: %v", err)
	}
	c.TrustProxy = tp

	for _, o := range strings.Split(get("CSRF_TRUSTED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || strings.Contains(u.Host, "*") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			bad("CSRF_TRUSTED_ORIGINS: %q is not an origin like https://app.example.com (scheme and host, optional port, nothing else; no wildcards)", o)
			continue
		}
		c.TrustedOrigins = append(c.TrustedOrigins, strings.TrimSuffix(o, "/"))
	}

	c.Binding = get("SESSION_BINDING")
	if c.Binding == "" {
		c.Binding = "flag"
	}
	if c.Binding != "flag" && c.Binding != "strict" && c.Binding != "off" {
		bad("SESSION_BINDING: %q is not flag, strict or off", c.Binding)
	}

	raw = or(get("SESSION_COOKIE_MODE"), "rolling")
	mode, err := tether.ParseCookieMode(raw)
	if err != nil {
		bad("SESSION_COOKIE_MODE: %q is not rolling, session or persistent", raw)
	}
	c.CookieMode = mode

	raw = or(get("SESSION_RENEW_INTERVAL"), "15m")
	if ri, err := time.ParseDuration(raw); err != nil || ri < 0 {
		bad("SESSION_RENEW_INTERVAL: %q is not a Go duration >= 0 (e.g. 15m; 0 turns renewal off)", raw)
	} else if c.RenewInterval = ri; ri == 0 {
		c.RenewInterval = tether.RenewOff
	}
	c.RenewGrace = dur("SESSION_RENEW_GRACE", "30s")
	if c.RenewInterval > 0 && c.RenewGrace >= c.RenewInterval {
		bad("SESSION_RENEW_GRACE (%v) must be shorter than SESSION_RENEW_INTERVAL (%v)", c.RenewGrace, c.RenewInterval)
	}

	c.DBSC = parseDBSC(get, bad)

	c.MetricsAddr = get("METRICS_ADDR")
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			bad("METRICS_ADDR: %q is not host:port (e.g. 127.0.0.1:9100)", c.MetricsAddr)
		}
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// checkSecretURL returns what is wrong with a URL that may hold a password,
// in words that never include any part of it; "" when it is empty or fine.
func checkSecretURL(raw string, schemes ...string) string {
	if raw == "" {
		return ""
	}
	want := strings.Join(schemes, "://, ") + "://"
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the input: do not wrap err.
		return "is not a valid URL (want " + want + "…; percent-encode special characters in the password)"
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if s != "unix" && u.Host == "" {
				return "has no host (want " + s + "://[user:password@]host[:port]…)"
			}
			return ""
		}
	}
	return "must start with " + want
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

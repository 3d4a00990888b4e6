// Package config loads the reference server's configuration from the
// environment and a .env file (the real environment wins), with the names of
// DESIGN.md's table. Every error names the variable and what it expects, but
// never echoes the value of a secret (SESSION_SECRET*, REDIS_URL,
// DATABASE_URL: URLs carry passwords).
package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration.
type Config struct {
	Env                   string // "development" or "production"
	Host                  string
	Port                  int
	DataDir               string
	RedisURL              string
	DatabaseURL           string
	SessionSecret         string
	SessionSecretPrevious []string
	IdleTimeout           time.Duration
	AbsoluteTimeout       time.Duration
	AdminAbsoluteTimeout  time.Duration
	ReauthWindow          time.Duration
	MaxPerUser            int
	TrustProxy            TrustProxy
}

// TrustProxy says which proxies' X-Forwarded-* headers are believed: a hop
// count, or a set of networks. The zero value trusts none.
type TrustProxy struct {
	Hops     int
	Networks []netip.Prefix
}

// Production reports whether APP_ENV is production.
func (c *Config) Production() bool { return c.Env == "production" }

// Load reads dotenvPath (a missing file is fine), then the environment
// through getenv, which wins, and validates the result.
func Load(getenv func(string) string, dotenvPath string) (*Config, error) {
	file, err := readDotenv(dotenvPath)
	if err != nil {
		return nil, err
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

	c.Env = or(get("APP_ENV"), "development")
	if c.Env != "development" && c.Env != "production" {
		bad("APP_ENV: %q is not development or production", c.Env)
	}
	c.Host = or(get("HOST"), "127.0.0.1")
	p, err := strconv.Atoi(or(get("PORT"), "3000"))
	if err != nil || p < 0 || p > 65535 {
		bad("PORT: %q is not a port number (0-65535)", get("PORT"))
	}
	c.Port = p
	c.DataDir = or(get("DATA_DIR"), "./data")
	c.RedisURL = get("REDIS_URL")
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") &&
		!strings.HasPrefix(c.RedisURL, "unix://") {
		bad("REDIS_URL: must start with redis://, rediss:// or unix:// (value not shown: it may hold a password)")
	}
	c.DatabaseURL = get("DATABASE_URL")
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL: must start with postgres:// or postgresql:// (value not shown: it may hold a password)")
	}
	c.SessionSecret = get("SESSION_SECRET")
	for _, s := range strings.Split(get("SESSION_SECRET_PREVIOUS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.SessionSecretPrevious = append(c.SessionSecretPrevious, s)
		}
	}
	dur := func(name, def string) time.Duration {
		raw := or(get(name), def)
		d, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			bad("%s: %q is not a Go duration (e.g. 30m, 8h)", name, raw)
		case d <= 0:
			bad("%s: %q must be positive", name, raw)
		}
		return d
	}
	c.IdleTimeout = dur("SESSION_IDLE_TIMEOUT", "30m")
	c.AbsoluteTimeout = dur("SESSION_ABSOLUTE_TIMEOUT", "8h")
	c.AdminAbsoluteTimeout = dur("SESSION_ADMIN_ABSOLUTE_TIMEOUT", "1h")
	c.ReauthWindow = dur("SESSION_REAUTH_WINDOW", "10m")
	if c.IdleTimeout > 0 && c.IdleTimeout < time.Second {
		bad("SESSION_IDLE_TIMEOUT: %v is under the 1s minimum", c.IdleTimeout)
	}
	if c.IdleTimeout > c.AbsoluteTimeout && c.AbsoluteTimeout > 0 {
		bad("SESSION_IDLE_TIMEOUT (%v) must not exceed SESSION_ABSOLUTE_TIMEOUT (%v)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	m, err := strconv.Atoi(or(get("SESSION_MAX_PER_USER"), "10"))
	if err != nil || m < 1 {
		bad("SESSION_MAX_PER_USER: %q is not a whole number >= 1", get("SESSION_MAX_PER_USER"))
	}
	c.MaxPerUser = m
	tp, err := ParseTrustProxy(get("TRUST_PROXY"))
	if err != nil {
		bad("TRUST_PROXY: %v", err)
	}
	c.TrustProxy = tp
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// ParseTrustProxy parses TRUST_PROXY: empty (trust none), a hop count, or a
// comma list of IP addresses and CIDR networks.
func ParseTrustProxy(s string) (TrustProxy, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return TrustProxy{}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 16 {
			return TrustProxy{}, fmt.Errorf("hop count %d out of range 0-16", n)
		}
		return TrustProxy{Hops: n}, nil
	}
	var tp TrustProxy
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if pfx, err := netip.ParsePrefix(part); err == nil {
			tp.Networks = append(tp.Networks, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(part)
		if err != nil {
			return TrustProxy{}, fmt.Errorf("%q is neither a hop count, an IP address nor a CIDR network", part)
		}
		tp.Networks = append(tp.Networks, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return tp, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

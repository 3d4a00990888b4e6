package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

func TestCookieMode(t *testing.T) {
	cases := []struct {
		raw     string
		want    tether.CookieMode
		wantErr bool
	}{
		{"", tether.CookieRolling, false},
		{"rolling", tether.CookieRolling, false},
		{"session", tether.CookieSession, false},
		{"persistent", tether.CookiePersistent, false},
		{"Persistent", 0, true},
		{" session", 0, true},
		{"remember", 0, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.raw), func(t *testing.T) {
			c, err := Load(envOf(map[string]string{"SESSION_COOKIE_MODE": tc.raw}), noFile(t))
			if tc.wantErr {
				want := fmt.Sprintf("SESSION_COOKIE_MODE: %q is not rolling, session or persistent", tc.raw)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("got error %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.CookieMode != tc.want {
				t.Fatalf("CookieMode: got %v, want %v", c.CookieMode, tc.want)
			}
		})
	}
}

// SESSION_STORE picks the session store; unset, REDIS_URL decides. A store
// whose URL is missing is refused at start, naming the variable.
func TestSessionStore(t *testing.T) {
	const redisURL, pgURL = "redis://127.0.0.1:6379", "postgres://u:hunter2@db/tether"
	cases := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"default", nil, StoreSQLite, ""},
		{"REDIS_URL decides", map[string]string{"REDIS_URL": redisURL}, StoreRedis, ""},
		{"DATABASE_URL alone keeps sessions in SQLite", map[string]string{"DATABASE_URL": pgURL}, StoreSQLite, ""},
		{"postgres", map[string]string{"SESSION_STORE": "postgres", "DATABASE_URL": pgURL}, StorePostgres, ""},
		{"postgres beside Redis", map[string]string{"SESSION_STORE": "postgres", "DATABASE_URL": pgURL, "REDIS_URL": redisURL}, StorePostgres, ""},
		{"sqlite beside Redis", map[string]string{"SESSION_STORE": "sqlite", "REDIS_URL": redisURL}, StoreSQLite, ""},
		{"redis", map[string]string{"SESSION_STORE": "redis", "REDIS_URL": redisURL}, StoreRedis, ""},
		{"postgres without DATABASE_URL", map[string]string{"SESSION_STORE": "postgres"}, "", "SESSION_STORE: postgres keeps sessions at DATABASE_URL, which is not set"},
		{"redis without REDIS_URL", map[string]string{"SESSION_STORE": "redis", "DATABASE_URL": pgURL}, "", "SESSION_STORE: redis keeps sessions at REDIS_URL, which is not set"},
		{"unknown", map[string]string{"SESSION_STORE": "Postgres"}, "", `SESSION_STORE: "Postgres" is not sqlite, redis or postgres`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(envOf(tc.env), noFile(t))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("got %v, want an error containing %q and no password", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.SessionStore != tc.want {
				t.Fatalf("SessionStore: got %q, want %q", c.SessionStore, tc.want)
			}
		})
	}
}

// SESSION_RENEW_INTERVAL and SESSION_RENEW_GRACE (issue 11.3): 0 turns
// renewal off, the grace must be positive and shorter than the interval.
func TestRenewal(t *testing.T) {
	cases := []struct {
		interval, grace string
		want            [2]time.Duration
		err             string
	}{
		{"", "", [2]time.Duration{15 * time.Minute, 30 * time.Second}, ""},
		{"0", "", [2]time.Duration{tether.RenewOff, 30 * time.Second}, ""},
		{"2s", "1s", [2]time.Duration{2 * time.Second, time.Second}, ""},
		{"1h", "5m", [2]time.Duration{time.Hour, 5 * time.Minute}, ""},
		{"-1m", "", [2]time.Duration{}, `SESSION_RENEW_INTERVAL: "-1m" is not a Go duration >= 0`},
		{"soon", "", [2]time.Duration{}, `SESSION_RENEW_INTERVAL: "soon" is not a Go duration >= 0`},
		{"", "0", [2]time.Duration{}, `SESSION_RENEW_GRACE: "0" must be positive`},
		{"20s", "", [2]time.Duration{}, "SESSION_RENEW_GRACE (30s) must be shorter than SESSION_RENEW_INTERVAL (20s)"},
		{"1m", "1m", [2]time.Duration{}, "SESSION_RENEW_GRACE (1m0s) must be shorter than SESSION_RENEW_INTERVAL (1m0s)"},
	}
	for _, tc := range cases {
		t.Run(tc.interval+"/"+tc.grace, func(t *testing.T) {
			c, err := Load(envOf(map[string]string{"SESSION_RENEW_INTERVAL": tc.interval, "SESSION_RENEW_GRACE": tc.grace}), noFile(t))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]time.Duration{c.RenewInterval, c.RenewGrace}; got != tc.want {
				t.Fatalf("RenewInterval, RenewGrace: got %v, want %v", got, tc.want)
			}
		})
	}
}

// SESSION_ANON_IDLE_TIMEOUT left unset never exceeds a short
// SESSION_IDLE_TIMEOUT (the 5m default would otherwise refuse it).
func TestAnonIdleTimeoutDefault(t *testing.T) {
	for _, tc := range []struct {
		idle string
		want time.Duration
	}{
		{"", 5 * time.Minute},
		{"1h", 5 * time.Minute},
		{"2m", 2 * time.Minute},
		{"4s", 4 * time.Second},
	} {
		t.Run("idle "+tc.idle, func(t *testing.T) {
			c, err := Load(envOf(map[string]string{"SESSION_IDLE_TIMEOUT": tc.idle}), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			if c.AnonIdleTimeout != tc.want {
				t.Fatalf("AnonIdleTimeout: got %v, want %v", c.AnonIdleTimeout, tc.want)
			}
		})
	}
}

package config

import (
	"strings"
	"testing"
	"time"
)

// SESSION_DBSC and SESSION_DBSC_COOKIE_TTL (DESIGN "Contract additions"):
// defaults on and 10m, errors naming the variable.
func TestDBSCSettings(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    DBSC
		wantErr string
		warn    bool
	}{
		{"defaults", nil, DBSC{Enabled: true, CookieTTL: 10 * time.Minute}, "", false},
		{"on", map[string]string{"SESSION_DBSC": "on"}, DBSC{Enabled: true, CookieTTL: 10 * time.Minute}, "", false},
		{"off", map[string]string{"SESSION_DBSC": "off"}, DBSC{Enabled: false, CookieTTL: 10 * time.Minute}, "", false},
		{"ttl", map[string]string{"SESSION_DBSC_COOKIE_TTL": "20m"}, DBSC{Enabled: true, CookieTTL: 20 * time.Minute}, "", false},
		{"ttl at the minimum", map[string]string{"SESSION_DBSC_COOKIE_TTL": "10s"}, DBSC{Enabled: true, CookieTTL: 10 * time.Second}, "", true},
		{"short ttl warns", map[string]string{"SESSION_DBSC_COOKIE_TTL": "4m59s"}, DBSC{Enabled: true, CookieTTL: 299 * time.Second}, "", true},
		{"short ttl, off: no warning", map[string]string{"SESSION_DBSC": "off", "SESSION_DBSC_COOKIE_TTL": "1m"}, DBSC{CookieTTL: time.Minute}, "", false},
		{"not on or off", map[string]string{"SESSION_DBSC": "true"}, DBSC{}, `SESSION_DBSC: "true" is not on or off`, false},
		{"ttl not a duration", map[string]string{"SESSION_DBSC_COOKIE_TTL": "10"}, DBSC{}, `SESSION_DBSC_COOKIE_TTL: "10" is not a Go duration`, false},
		{"ttl below the minimum", map[string]string{"SESSION_DBSC_COOKIE_TTL": "9s"}, DBSC{}, "SESSION_DBSC_COOKIE_TTL: 9s is under the 10s minimum", false},
		{"negative ttl", map[string]string{"SESSION_DBSC_COOKIE_TTL": "-1m"}, DBSC{}, "SESSION_DBSC_COOKIE_TTL: -1m0s is under the 10s minimum", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(envOf(tc.env), noFile(t))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DBSC != tc.want {
				t.Errorf("got %+v, want %+v", c.DBSC, tc.want)
			}
			if got := c.DBSCWarning() != ""; got != tc.warn {
				t.Errorf("warning: got %q, want one: %v", c.DBSCWarning(), tc.warn)
			}
		})
	}
}

package main

import (
	"strings"
	"testing"
)

// tether doctor reports SESSION_DBSC and SESSION_DBSC_COOKIE_TTL, warns
// under 5 minutes (Chrome refreshes 120 s before expiry and signs at most
// 6 times per 9 minutes), and a bad value fails naming the variable.
func TestDoctorDBSC(t *testing.T) {
	cases := []struct {
		name    string
		kv      []string
		wantErr bool
		want    string
	}{
		{"default", nil, false, "ok    device-bound sessions: on, bound cookie lifetime 10m0s (SESSION_DBSC_COOKIE_TTL)"},
		{"off", []string{"SESSION_DBSC", "off"}, false, "ok    device-bound sessions: off (SESSION_DBSC=off)"},
		{"short lifetime", []string{"SESSION_DBSC_COOKIE_TTL", "3m"}, false, "warn  device-bound sessions: SESSION_DBSC_COOKIE_TTL 3m0s is under 5m0s"},
		{"five minutes", []string{"SESSION_DBSC_COOKIE_TTL", "5m"}, false, "ok    device-bound sessions: on, bound cookie lifetime 5m0s"},
		{"no proxy trusted", nil, false, "offered over HTTPS only (behind a TLS-terminating proxy, TRUST_PROXY must vouch for it"},
		{"proxy trusted", []string{"TRUST_PROXY", "10.0.0.0/8"}, false, "(SESSION_DBSC_COOKIE_TTL); offered over HTTPS only\n"},
		{"not on or off", []string{"SESSION_DBSC", "yes"}, true, `FAIL  configuration: SESSION_DBSC: "yes" is not on or off`},
		{"below the minimum", []string{"SESSION_DBSC_COOKIE_TTL", "5s"}, true, "FAIL  configuration: SESSION_DBSC_COOKIE_TTL: 5s is under the 10s minimum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDoctor(t, tmp(t), tc.kv...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v; report:\n%s", err, tc.wantErr, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

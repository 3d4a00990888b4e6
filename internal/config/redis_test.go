package config

import (
	"strings"
	"testing"
)

// REDIS_CLIENT_CACHE: on by default, "on" or "off", anything else refused
// with the variable's name (issue 13).
func TestRedisClientCache(t *testing.T) {
	cases := []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", true, false},
		{"on", true, false},
		{"off", false, false},
		{"yes", false, true},
		{"ON", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			c, err := Load(envOf(map[string]string{"REDIS_URL": "redis://127.0.0.1:6379", "REDIS_CLIENT_CACHE": tc.value}), noFile(t))
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "REDIS_CLIENT_CACHE") {
					t.Fatalf("got %v, want an error naming REDIS_CLIENT_CACHE", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RedisClientCache != tc.want {
				t.Fatalf("RedisClientCache: got %v, want %v", c.RedisClientCache, tc.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// `tether doctor` says whether sessions are encrypted, never the key.
func TestDoctorEncryption(t *testing.T) {
	key, old := strings.Repeat("5a", 32), strings.Repeat("6b", 32)
	cases := []struct {
		name    string
		kv      []string
		wantErr bool
		want    string
	}{
		{"off", nil, false, "ok    session encryption: off; session values (IP, user agent…) and user IDs are stored in the clear"},
		{"on", []string{"SESSION_ENCRYPTION_KEY", key}, false, "ok    session encryption: on (AES-256-GCM); 0 previous key(s) still decrypt"},
		{"rotating", []string{"SESSION_ENCRYPTION_KEY", key, "SESSION_ENCRYPTION_KEY_PREVIOUS", old}, false, "ok    session encryption: on (AES-256-GCM); 1 previous key(s) still decrypt"},
		{"not hex", []string{"SESSION_ENCRYPTION_KEY", key[:60] + "zzzz"}, true, "SESSION_ENCRYPTION_KEY: not 64 hex digits (64 characters; value not shown)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDoctor(t, tmp(t), tc.kv...)
			if (err != nil) != tc.wantErr || !strings.Contains(out, tc.want) {
				t.Fatalf("doctor: got %v\n%s\nwant error %v and %q", err, out, tc.wantErr, tc.want)
			}
			if strings.Contains(out, key[:16]) || strings.Contains(out, old[:16]) {
				t.Fatalf("doctor shows a key:\n%s", out)
			}
		})
	}
}

// The reference server with SESSION_ENCRYPTION_KEY, on the embedded store
// and on Redis: the seed's walkthrough works (login, /views, /profile, the
// caller's sessions with IP and user agent), the admin CLI finds and ends
// the user's sessions through the encrypted index, and the session store
// holds neither the user agent nor the IP nor (in Redis) the user ID
// (issue 11 deliverable 4).
func TestEncryptedServer(t *testing.T) {
	const ua = "SecretBrowser/8.8 (encryption e2e)"
	key := strings.Repeat("0f1e2d3c4b5a6978", 4)
	for _, name := range []string{"sqlite", "redis"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var rdb *redis.Client
			base := env()
			if name == "redis" {
				srv := redistest.Start(t, redistest.Config{})
				rdb = redis.NewClient(&redis.Options{Addr: srv.Addr})
				defer rdb.Close()
				base = redisEnv("redis://" + srv.Addr)
			}
			getenv := func(k string) string {
				switch k {
				case "SESSION_ENCRYPTION_KEY":
					return key
				case "DATA_DIR":
					return dir
				}
				return base(k)
			}
			in := start(t, dir, getenv)
			c := in.client()
			c.ua = ua
			expect(t, "login", c.login("alice", "correct-horse"), 200, "")
			expect(t, "views 1", c.get("/views"), 200, `{"views":1}`)
			expect(t, "views 2", c.get("/views"), 200, `{"views":2}`)
			var profile struct{ UserID string }
			if r := c.get("/profile"); r.status != 200 || json.Unmarshal([]byte(r.body), &profile) != nil || profile.UserID == "" {
				t.Fatalf("/profile: got %d %s", r.status, r.body)
			}
			list := c.sessions()
			if len(list.Sessions) != 1 || list.Sessions[0].UserAgent != ua || list.Sessions[0].IP != "127.0.0.1" {
				t.Fatalf("/sessions: got %+v, want one session with the user agent and IP", list)
			}

			var dump []byte
			if rdb != nil {
				for _, pattern := range []string{"tether:s:*", "tether:u:*"} {
					names, err := rdb.Keys(t.Context(), pattern).Result()
					if err != nil || len(names) == 0 {
						t.Fatalf("KEYS %s: got %q, %v", pattern, names, err)
					}
					for _, n := range names {
						// DUMP compresses (LZF), so the values are read too.
						b, err := rdb.Dump(t.Context(), n).Bytes()
						if err != nil {
							t.Fatal(err)
						}
						dump = append(append(dump, n...), b...)
						if pattern == "tether:s:*" {
							dump = append(dump, rdb.Get(t.Context(), n).Val()...)
						} else {
							dump = append(dump, strings.Join(rdb.ZRange(t.Context(), n, 0, -1).Val(), " ")...)
						}
					}
				}
			} else {
				for _, f := range []string{"tether.db", "tether.db-wal"} {
					b, _ := os.ReadFile(filepath.Join(dir, f))
					dump = append(dump, b...)
				}
			}
			secrets := []string{ua, `"127.0.0.1"`}
			if rdb != nil {
				secrets = append(secrets, profile.UserID) // SQLite's file also holds the users table
			}
			for _, s := range secrets {
				if bytes.Contains(dump, []byte(s)) {
					t.Errorf("the session store shows %q", s)
				}
			}

			cli := func(args ...string) string {
				var out, errb bytes.Buffer
				if err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errb); err != nil {
					t.Fatalf("tether %s: %v\n%s", strings.Join(args, " "), err, errb.String())
				}
				return out.String()
			}
			if out := cli("sessions", "list", "--user", "alice"); !strings.Contains(out, list.Sessions[0].ID) {
				t.Fatalf("sessions list: got\n%s\nwant the session %s", out, list.Sessions[0].ID)
			}
			if out := cli("sessions", "revoke", "--user", "alice"); !strings.Contains(out, "1 session(s) of alice ended") {
				t.Fatalf("sessions revoke: got %q", out)
			}
			expect(t, "profile after revoke", c.get("/profile"), 401, "")
		})
	}
}

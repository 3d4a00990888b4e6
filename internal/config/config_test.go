package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(envOf(nil), filepath.Join(t.TempDir(), "missing.env"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, "development"},
		{"Host", c.Host, "127.0.0.1"},
		{"Port", c.Port, 3000},
		{"DataDir", c.DataDir, "./data"},
		{"IdleTimeout", c.IdleTimeout, 30 * time.Minute},
		{"AbsoluteTimeout", c.AbsoluteTimeout, 8 * time.Hour},
		{"AdminAbsoluteTimeout", c.AdminAbsoluteTimeout, time.Hour},
		{"ReauthWindow", c.ReauthWindow, 10 * time.Minute},
		{"MaxPerUser", c.MaxPerUser, 10},
		{"Production", c.Production(), false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestDotenvAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	content := "# comment\n\nexport PORT=4000\nDATA_DIR = '/tmp/x y' # note\nSESSION_SECRET=\"a\\\"b\"\nSESSION_IDLE_TIMEOUT=5m # five\nSESSION_SECRET_PREVIOUS=p1, p2\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(map[string]string{"PORT": "5000"}), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5000 {
		t.Errorf("Port: got %d, want 5000 (the environment wins over .env)", c.Port)
	}
	if c.DataDir != "/tmp/x y" {
		t.Errorf("DataDir: got %q, want %q", c.DataDir, "/tmp/x y")
	}
	if c.SessionSecret != `a"b` {
		t.Errorf("SessionSecret: got %q, want %q", c.SessionSecret, `a"b`)
	}
	if c.IdleTimeout != 5*time.Minute {
		t.Errorf("IdleTimeout: got %v, want 5m", c.IdleTimeout)
	}
	if strings.Join(c.SessionSecretPrevious, "|") != "p1|p2" {
		t.Errorf("SessionSecretPrevious: got %q, want [p1 p2]", c.SessionSecretPrevious)
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad env", map[string]string{"APP_ENV": "staging"}, "APP_ENV"},
		{"bad port", map[string]string{"PORT": "http"}, "PORT"},
		{"port out of range", map[string]string{"PORT": "70000"}, "PORT"},
		{"bad duration", map[string]string{"SESSION_IDLE_TIMEOUT": "abc"}, `SESSION_IDLE_TIMEOUT: "abc" is not a Go duration`},
		{"negative duration", map[string]string{"SESSION_ABSOLUTE_TIMEOUT": "-1h"}, "SESSION_ABSOLUTE_TIMEOUT"},
		{"idle over absolute", map[string]string{"SESSION_IDLE_TIMEOUT": "9h"}, "must not exceed SESSION_ABSOLUTE_TIMEOUT"},
		{"sub-second idle", map[string]string{"SESSION_IDLE_TIMEOUT": "10ms"}, "1s minimum"},
		{"bad max per user", map[string]string{"SESSION_MAX_PER_USER": "0"}, "SESSION_MAX_PER_USER"},
		{"bad trust proxy", map[string]string{"TRUST_PROXY": "everyone"}, "TRUST_PROXY"},
		{"bad redis url", map[string]string{"REDIS_URL": "http://user:hunter2@x"}, "REDIS_URL"},
		{"bad database url", map[string]string{"DATABASE_URL": "mysql://user:hunter2@x"}, "DATABASE_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(envOf(tc.env), filepath.Join(t.TempDir(), "none"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q echoes a password", err)
			}
		})
	}
}

func TestDotenvErrorsHideValues(t *testing.T) {
	cases := map[string]string{
		"no equals":        "SESSION_SECRET hunter2hunter2\n",
		"bad key":          "1SECRET=hunter2\n",
		"unterminated":     "SESSION_SECRET=\"hunter2\n",
		"trailing garbage": "SESSION_SECRET='hunter2' x\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			_ = os.WriteFile(path, []byte(content), 0o600)
			_, err := Load(envOf(nil), path)
			if err == nil || !strings.Contains(err.Error(), "line 1") {
				t.Fatalf("got %v, want an error naming line 1", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q echoes the value", err)
			}
		})
	}
}

func TestTrustProxy(t *testing.T) {
	tp, err := ParseTrustProxy("10.0.0.0/8, 192.168.1.1, ::1")
	if err != nil || len(tp.Networks) != 3 || tp.Networks[1].Bits() != 32 {
		t.Fatalf("got %+v %v, want three networks", tp, err)
	}
	if tp, err := ParseTrustProxy("2"); err != nil || tp.Hops != 2 {
		t.Fatalf("hop count: got %+v %v", tp, err)
	}
}

func TestSecrets(t *testing.T) {
	long := strings.Repeat("s", 40)
	cases := []struct {
		name     string
		env      map[string]string
		wantErr  string
		wantN    int
		wantWarn bool
	}{
		{"production without secret", map[string]string{"APP_ENV": "production"}, "SESSION_SECRET is not set", 0, false},
		{"production short secret", map[string]string{"APP_ENV": "production", "SESSION_SECRET": "hunter2"}, "SESSION_SECRET is 7 bytes", 0, false},
		{"production short previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": "hunter2"}, "SESSION_SECRET_PREVIOUS", 0, false},
		{"production good", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": long + "x," + long + "y"}, "", 3, false},
		{"development short secret warns", map[string]string{"SESSION_SECRET": "hunter2"}, "", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["DATA_DIR"] = t.TempDir()
			c, err := Load(envOf(tc.env), filepath.Join(t.TempDir(), "none"))
			if err != nil {
				t.Fatal(err)
			}
			secrets, warnings, err := c.Secrets()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q echoes the secret", err)
				}
				return
			}
			if err != nil || len(secrets) != tc.wantN || (len(warnings) > 0) != tc.wantWarn {
				t.Fatalf("got %d secrets, warnings %q, err %v; want %d secrets, warning %v", len(secrets), warnings, err, tc.wantN, tc.wantWarn)
			}
			for _, w := range warnings {
				if strings.Contains(w, "hunter2") {
					t.Fatalf("warning %q echoes the secret", w)
				}
			}
		})
	}
}

func TestDevSecretGeneratedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, _ := Load(envOf(map[string]string{"DATA_DIR": dir}), filepath.Join(dir, "none"))
	first, _, err := c.Secrets()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: got %v %v, want mode 0600", st, err)
	}
	if len(first[0]) != 128 {
		t.Fatalf("generated secret: got %d bytes, want 128 hex digits", len(first[0]))
	}
	second, _, _ := c.Secrets()
	if string(first[0]) != string(second[0]) {
		t.Fatal("second start generated a new secret; want the stored one")
	}
	_ = os.Chmod(filepath.Join(dir, SecretFile), 0o644)
	if _, _, err := c.Secrets(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable secret file: got %v, want a refusal that says chmod 600", err)
	}
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x y'\n# c\n", `C="a\"b\n"`, "D=1 # c", "=", "E", "F=\"unterminated"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := parseDotenv(s)
		if err != nil {
			return
		}
		for k := range vals {
			if !validKey(k) {
				t.Fatalf("accepted invalid key %q", k)
			}
		}
	})
}

// FuzzDotenvRoundTrip checks that a simple value written as KEY=VALUE reads back.
func FuzzDotenvRoundTrip(f *testing.F) {
	f.Add("value")
	f.Add("a b c")
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsAny(v, "\r\n\"'#\\") || strings.TrimSpace(v) != v {
			return
		}
		vals, err := parseDotenv("KEY=" + v + "\n")
		if err != nil || vals["KEY"] != v {
			t.Fatalf("KEY=%q: got %q, %v", v, vals["KEY"], err)
		}
	})
}

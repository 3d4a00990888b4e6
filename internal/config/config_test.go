package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// envOf returns a getenv over kv.
func envOf(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// noFile is a .env path that does not exist.
func noFile(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.env") }

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	for name, path := range map[string]string{"missing file": noFile(t), "no file": "", "empty file": writeFile(t, "")} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(envOf(nil), path)
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				name      string
				got, want any
			}{
				{"Env", c.Env, "development"},
				{"Production", c.Production(), false},
				{"Host", c.Host, "127.0.0.1"},
				{"Port", c.Port, 3000},
				{"DataDir", c.DataDir, "./data"},
				{"RedisURL", c.RedisURL, ""},
				{"DatabaseURL", c.DatabaseURL, ""},
				{"SessionSecret", c.SessionSecret, ""},
				{"SessionSecretPrevious", len(c.SessionSecretPrevious), 0},
				{"IdleTimeout", c.IdleTimeout, 30 * time.Minute},
				{"AbsoluteTimeout", c.AbsoluteTimeout, 8 * time.Hour},
				{"AdminAbsoluteTimeout", c.AdminAbsoluteTimeout, time.Hour},
				{"ReauthWindow", c.ReauthWindow, 10 * time.Minute},
				{"MaxPerUser", c.MaxPerUser, 10},
				{"AnonIdleTimeout", c.AnonIdleTimeout, 5 * time.Minute},
				{"CreatePerIP", c.CreatePerIP, 120},
				{"LoginMaxFailures", c.LoginMaxFailures, 10},
				{"LoginMaxFailuresPerIP", c.LoginMaxFailuresPerIP, 100},
				{"LoginWindow", c.LoginWindow, 15 * time.Minute},
				{"TrustProxy.Enabled", c.TrustProxy.Enabled(), false},
				{"CookieMode", c.CookieMode, tether.CookieRolling},
				{"RenewInterval", c.RenewInterval, 15 * time.Minute},
				{"RenewGrace", c.RenewGrace, 30 * time.Second},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
				}
			}
		})
	}
}

func TestLoadEveryVariable(t *testing.T) {
	c, err := Load(envOf(map[string]string{
		"APP_ENV":                        "production",
		"HOST":                           "0.0.0.0",
		"PORT":                           "0",
		"DATA_DIR":                       "/var/lib/tether",
		"REDIS_URL":                      "rediss://default:pw@redis.internal:6380/0",
		"DATABASE_URL":                   "postgres://app:pw@db/tether?sslmode=verify-full",
		"SESSION_STORE":                  "postgres",
		"SESSION_SECRET":                 "current",
		"SESSION_SECRET_PREVIOUS":        " old1 ,, old2 ",
		"SESSION_IDLE_TIMEOUT":           "15m",
		"SESSION_ABSOLUTE_TIMEOUT":       "4h",
		"SESSION_ADMIN_ABSOLUTE_TIMEOUT": "90m",
		"SESSION_REAUTH_WINDOW":          "5m",
		"SESSION_MAX_PER_USER":           "3",
		"SESSION_ANON_IDLE_TIMEOUT":      "2m",
		"SESSION_CREATE_PER_IP":          "30",
		"TRUST_PROXY":                    "2",
		"METRICS_ADDR":                   "127.0.0.1:9100",
		"SESSION_BINDING":                "strict",
		"SESSION_COOKIE_MODE":            "persistent",
		"SESSION_RENEW_INTERVAL":         "5m",
		"SESSION_RENEW_GRACE":            "10s",
		"LOGIN_MAX_FAILURES":             "5",
		"LOGIN_MAX_FAILURES_PER_IP":      "50",
		"LOGIN_THROTTLE_WINDOW":          "1h",
		"CSRF_TRUSTED_ORIGINS":           " https://app.example.com , http://localhost:5173/,",
		"SESSION_DBSC":                   "off",
		"SESSION_DBSC_COOKIE_TTL":        "15m",
	}), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Env: "production", Host: "0.0.0.0", Port: 0, DataDir: "/var/lib/tether",
		RedisURL:              "rediss://default:pw@redis.internal:6380/0",
		DatabaseURL:           "postgres://app:pw@db/tether?sslmode=verify-full",
		SessionStore:          StorePostgres,
		SessionSecret:         "current",
		SessionSecretPrevious: []string{"old1", "old2"},
		IdleTimeout:           15 * time.Minute, AbsoluteTimeout: 4 * time.Hour,
		AdminAbsoluteTimeout: 90 * time.Minute, ReauthWindow: 5 * time.Minute,
		MaxPerUser: 3, TrustProxy: TrustProxy{Hops: 2},
		AnonIdleTimeout: 2 * time.Minute, CreatePerIP: 30,
		MetricsAddr: "127.0.0.1:9100", Binding: "strict", CookieMode: tether.CookiePersistent,
		RenewInterval: 5 * time.Minute, RenewGrace: 10 * time.Second,
		LoginMaxFailures: 5, LoginMaxFailuresPerIP: 50, LoginWindow: time.Hour,
		TrustedOrigins: []string{"https://app.example.com", "http://localhost:5173"},
		DBSC:           DBSC{Enabled: false, CookieTTL: 15 * time.Minute},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v,\nwant %+v", c, want)
	}
	if !c.Production() {
		t.Error("Production: got false, want true")
	}
}

func TestParseDotenv(t *testing.T) {
	cases := []struct {
		name, in string
		want     map[string]string
	}{
		{"plain", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}},
		{"no final newline", "A=1", map[string]string{"A": "1"}},
		{"comments and blank lines", "# c\n\n  # indented\nA=1\n\n", map[string]string{"A": "1"}},
		{"export prefix", "export A=1\nexport\tB=2\n", map[string]string{"A": "1", "B": "2"}},
		{"key named export", "export=1\n", map[string]string{"export": "1"}},
		{"spaces around key and =", "  A  =  x y  \n", map[string]string{"A": "x y"}},
		{"empty value", "A=\nB=''\nC=\"\"\n", map[string]string{"A": "", "B": "", "C": ""}},
		{"inline comment", "A=1 # one\nB=2\t# two\nC= # nothing\n", map[string]string{"A": "1", "B": "2", "C": ""}},
		{"hash inside unquoted value", "A=a#b\nB=#b\n", map[string]string{"A": "a#b", "B": "#b"}},
		{"single quotes are literal", `A='x y # z \n "q"'` + "\n", map[string]string{"A": `x y # z \n "q"`}},
		{"double quotes escape", `A="l1\nl2\tt \"q\" back\\slash"`, map[string]string{"A": "l1\nl2\tt \"q\" back\\slash"}},
		{"unknown escape kept", `A="C:\dir\x"`, map[string]string{"A": `C:\dir\x`}},
		{"escaped backslash before quote", `A="x\\"`, map[string]string{"A": `x\`}},
		{"comment after quotes", "A='v' # c\nB=\"w\"#c\n", map[string]string{"A": "v", "B": "w"}},
		{"equals in value", "A=b=c==\n", map[string]string{"A": "b=c=="}},
		{"CRLF", "A=1\r\nB='2'\r\n", map[string]string{"A": "1", "B": "2"}},
		{"byte order mark", "\uFEFFA=1\n", map[string]string{"A": "1"}},
		{"last wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"lower case and digits in key", "a_1=x\n", map[string]string{"a_1": "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotenv(tc.in)
			if err != nil {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	// Every value holds the canary; no error may contain it.
	const canary = "hunter2canary"
	cases := []struct {
		name, in, want string
	}{
		{"no equals", "A=1\nSESSION_SECRET " + canary + "\n", "line 2: want KEY=VALUE"},
		{"empty key", "=" + canary + "\n", "line 1: want KEY=VALUE"},
		{"key starts with digit", "1SECRET=" + canary + "\n", "line 1: want KEY=VALUE"},
		{"key with dash", "MY-KEY=" + canary + "\n", "line 1: want KEY=VALUE"},
		{"value only", canary + "\n", "line 1: want KEY=VALUE"},
		{"unterminated double quote", "# c\n\nSESSION_SECRET=\"" + canary + "\n", "line 3 (SESSION_SECRET): double-quoted value has no closing quote"},
		{"unterminated single quote", "SESSION_SECRET='" + canary + "\n", "line 1 (SESSION_SECRET): single-quoted value has no closing quote"},
		{"text after single quote", "SESSION_SECRET='" + canary + "' x\n", "line 1 (SESSION_SECRET): text after the closing single quote"},
		{"text after double quote", "SESSION_SECRET=\"" + canary + "\"x\n", "line 1 (SESSION_SECRET): text after the closing double quote"},
		{"multi-line value", "SESSION_SECRET=\"" + canary + "\n" + canary + "\"\n", "line 1 (SESSION_SECRET)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotenv(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want an error containing %q", got, err, tc.want)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q echoes the value", err)
			}
			// Through Load, the error also names the file.
			path := writeFile(t, tc.in)
			_, err = Load(envOf(nil), path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: got %v, want an error naming %s and containing %q", err, path, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("Load error %q echoes the value", err)
			}
		})
	}
}

func TestDotenvAndEnvironment(t *testing.T) {
	path := writeFile(t, "# settings\n\nexport PORT=4000\nDATA_DIR = '/tmp/x y' # note\n"+
		"SESSION_SECRET=\"a\\\"b\"\nSESSION_IDLE_TIMEOUT=5m # five\nSESSION_SECRET_PREVIOUS=p1, p2\nSESSION_MAX_PER_USER=4\n")
	c, err := Load(envOf(map[string]string{"PORT": "5000", "SESSION_MAX_PER_USER": ""}), path)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Port (the environment wins)", c.Port, 5000},
		{"DataDir (from .env, single-quoted)", c.DataDir, "/tmp/x y"},
		{"SessionSecret (double-quoted with escape)", c.SessionSecret, `a"b`},
		{"IdleTimeout (comment stripped)", c.IdleTimeout, 5 * time.Minute},
		{"SessionSecretPrevious (comma list)", strings.Join(c.SessionSecretPrevious, "|"), "p1|p2"},
		{"MaxPerUser (empty environment value does not override)", c.MaxPerUser, 4},
		{"AbsoluteTimeout (default)", c.AbsoluteTimeout, 8 * time.Hour},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestDotenvFileLimits(t *testing.T) {
	t.Run("larger than the cap", func(t *testing.T) {
		path := writeFile(t, "A="+strings.Repeat("x", MaxDotenvBytes)+"\n")
		if _, err := Load(envOf(nil), path); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("got %v, want a size refusal", err)
		}
	})
	t.Run("just under the cap", func(t *testing.T) {
		path := writeFile(t, "A="+strings.Repeat("x", MaxDotenvBytes-3)+"\n")
		c, err := Load(envOf(nil), path)
		if err != nil || c == nil {
			t.Fatalf("got %v, want the file accepted", err)
		}
	})
	t.Run("unreadable path", func(t *testing.T) {
		dir := t.TempDir() // a directory, not a file
		if _, err := Load(envOf(nil), dir); err == nil {
			t.Fatal("got nil, want an error reading a directory as .env")
		}
	})
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown environment", map[string]string{"APP_ENV": "staging"}, `APP_ENV: "staging" is neither development nor production`},
		{"capitalised environment", map[string]string{"APP_ENV": "Production"}, `APP_ENV: "Production"`},
		{"port not a number", map[string]string{"PORT": "http"}, `PORT: "http" is not a port number`},
		{"port too large", map[string]string{"PORT": "65536"}, `PORT: "65536"`},
		{"negative port", map[string]string{"PORT": "-1"}, `PORT: "-1"`},
		{"idle not a duration", map[string]string{"SESSION_IDLE_TIMEOUT": "abc"}, `SESSION_IDLE_TIMEOUT: "abc" is not a Go duration (e.g. 30m)`},
		{"idle without unit", map[string]string{"SESSION_IDLE_TIMEOUT": "30"}, `SESSION_IDLE_TIMEOUT: "30" is not a Go duration`},
		{"idle zero", map[string]string{"SESSION_IDLE_TIMEOUT": "0s"}, `SESSION_IDLE_TIMEOUT: "0s" must be positive`},
		{"idle under a second", map[string]string{"SESSION_IDLE_TIMEOUT": "10ms"}, "under the 1s minimum"},
		{"absolute not a duration", map[string]string{"SESSION_ABSOLUTE_TIMEOUT": "8 hours"}, `SESSION_ABSOLUTE_TIMEOUT: "8 hours" is not a Go duration (e.g. 8h)`},
		{"absolute negative", map[string]string{"SESSION_ABSOLUTE_TIMEOUT": "-1h"}, `SESSION_ABSOLUTE_TIMEOUT: "-1h" must be positive`},
		{"admin absolute not a duration", map[string]string{"SESSION_ADMIN_ABSOLUTE_TIMEOUT": "1d"}, `SESSION_ADMIN_ABSOLUTE_TIMEOUT: "1d" is not a Go duration (e.g. 1h)`},
		{"admin absolute zero", map[string]string{"SESSION_ADMIN_ABSOLUTE_TIMEOUT": "0"}, `SESSION_ADMIN_ABSOLUTE_TIMEOUT: "0" must be positive`},
		{"reauth not a duration", map[string]string{"SESSION_REAUTH_WINDOW": "soon"}, `SESSION_REAUTH_WINDOW: "soon" is not a Go duration (e.g. 10m)`},
		{"reauth negative", map[string]string{"SESSION_REAUTH_WINDOW": "-10m"}, `SESSION_REAUTH_WINDOW: "-10m" must be positive`},
		{"idle over absolute", map[string]string{"SESSION_IDLE_TIMEOUT": "9h"}, "SESSION_IDLE_TIMEOUT (9h0m0s) must not exceed SESSION_ABSOLUTE_TIMEOUT (8h0m0s)"},
		{"max per user zero", map[string]string{"SESSION_MAX_PER_USER": "0"}, `SESSION_MAX_PER_USER: "0" is not a whole number >= 1`},
		{"max per user not a number", map[string]string{"SESSION_MAX_PER_USER": "ten"}, `SESSION_MAX_PER_USER: "ten"`},
		{"anon idle not a duration", map[string]string{"SESSION_ANON_IDLE_TIMEOUT": "5"}, `SESSION_ANON_IDLE_TIMEOUT: "5" is not a Go duration (e.g. 5m)`},
		{"anon idle zero", map[string]string{"SESSION_ANON_IDLE_TIMEOUT": "0s"}, `SESSION_ANON_IDLE_TIMEOUT: "0s" must be positive`},
		{"anon idle under a second", map[string]string{"SESSION_ANON_IDLE_TIMEOUT": "500ms"}, "SESSION_ANON_IDLE_TIMEOUT: 500ms is under the 1s minimum"},
		{"anon idle over idle", map[string]string{"SESSION_ANON_IDLE_TIMEOUT": "31m"}, "SESSION_ANON_IDLE_TIMEOUT (31m0s) must not exceed SESSION_IDLE_TIMEOUT (30m0s)"},
		{"create per IP negative", map[string]string{"SESSION_CREATE_PER_IP": "-1"}, `SESSION_CREATE_PER_IP: "-1" is not a whole number >= 0`},
		{"create per IP not a number", map[string]string{"SESSION_CREATE_PER_IP": "many"}, `SESSION_CREATE_PER_IP: "many" is not a whole number >= 0`},
		{"login failures zero", map[string]string{"LOGIN_MAX_FAILURES": "0"}, `LOGIN_MAX_FAILURES: "0" is not a whole number >= 1 (e.g. 10)`},
		{"login failures per IP not a number", map[string]string{"LOGIN_MAX_FAILURES_PER_IP": "lots"}, `LOGIN_MAX_FAILURES_PER_IP: "lots" is not a whole number >= 1 (e.g. 100)`},
		{"trusted origin with a path", map[string]string{"CSRF_TRUSTED_ORIGINS": "https://app.example.com/admin"}, `CSRF_TRUSTED_ORIGINS: "https://app.example.com/admin" is not an origin`},
		{"trusted origin without a scheme", map[string]string{"CSRF_TRUSTED_ORIGINS": "app.example.com"}, `CSRF_TRUSTED_ORIGINS: "app.example.com" is not an origin`},
		{"trusted origin wildcard", map[string]string{"CSRF_TRUSTED_ORIGINS": "https://*"}, `CSRF_TRUSTED_ORIGINS: "https://*"`},
		{"login window not a duration", map[string]string{"LOGIN_THROTTLE_WINDOW": "15"}, `LOGIN_THROTTLE_WINDOW: "15" is not a Go duration (e.g. 15m)`},
		{"trust proxy words", map[string]string{"TRUST_PROXY": "everyone"}, `TRUST_PROXY: "everyone" is neither a hop count`},
		{"trust proxy negative hops", map[string]string{"TRUST_PROXY": "-1"}, "TRUST_PROXY: hop count -1 is out of range"},
		{"trust proxy too many hops", map[string]string{"TRUST_PROXY": "17"}, "TRUST_PROXY: hop count 17 is out of range 0-16"},
		{"trust proxy bad CIDR", map[string]string{"TRUST_PROXY": "10.0.0.0/33"}, `TRUST_PROXY: "10.0.0.0/33"`},
		{"trust proxy empty entry", map[string]string{"TRUST_PROXY": "10.0.0.1,"}, `TRUST_PROXY: ""`},
		{"trust proxy zone", map[string]string{"TRUST_PROXY": "fe80::1%eth0"}, "zones are not supported"},
		{"redis wrong scheme", map[string]string{"REDIS_URL": "http://user:hunter2@x"}, "REDIS_URL: must start with redis://, rediss://, unix://"},
		{"redis no host", map[string]string{"REDIS_URL": "redis://"}, "REDIS_URL: has no host"},
		{"redis unparsable", map[string]string{"REDIS_URL": "redis://user:hunter2@x:port/%zz"}, "REDIS_URL: is not a valid URL"},
		{"database wrong scheme", map[string]string{"DATABASE_URL": "mysql://user:hunter2@x/db"}, "DATABASE_URL: must start with postgres://, postgresql://"},
		{"database unparsable", map[string]string{"DATABASE_URL": "postgres://u:hunter2@h:abc/db"}, "DATABASE_URL: is not a valid URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(envOf(tc.env), noFile(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, %v; want an error containing %q", c, err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q echoes a password", err)
			}
		})
	}
}

func TestValidationAccepts(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"port 0 for tests", map[string]string{"PORT": "0"}},
		{"port 65535", map[string]string{"PORT": "65535"}},
		{"idle equal to absolute", map[string]string{"SESSION_IDLE_TIMEOUT": "1h", "SESSION_ABSOLUTE_TIMEOUT": "1h"}},
		{"idle of one second", map[string]string{"SESSION_IDLE_TIMEOUT": "1s"}},
		{"anon idle equal to idle", map[string]string{"SESSION_ANON_IDLE_TIMEOUT": "30m"}},
		{"create per IP off", map[string]string{"SESSION_CREATE_PER_IP": "0"}},
		{"redis unix socket", map[string]string{"REDIS_URL": "unix:///run/redis.sock"}},
		{"redis with TLS and ACL user", map[string]string{"REDIS_URL": "rediss://app:p%40ss@redis:6380/2"}},
		{"postgresql scheme", map[string]string{"DATABASE_URL": "postgresql://u:p@db:5432/tether"}},
		{"trust proxy zero hops", map[string]string{"TRUST_PROXY": "0"}},
		{"trust proxy list", map[string]string{"TRUST_PROXY": "10.0.0.0/8, 127.0.0.1 ,::1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(envOf(tc.env), noFile(t)); err != nil {
				t.Fatalf("got %v, want no error", err)
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	_, err := Load(envOf(map[string]string{"APP_ENV": "prod", "PORT": "x", "SESSION_REAUTH_WINDOW": "y"}), noFile(t))
	for _, name := range []string{"APP_ENV", "PORT", "SESSION_REAUTH_WINDOW"} {
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("got %v, want it to name %s", err, name)
		}
	}
}

// TestSecretValuesNeverInErrors sets every secret-bearing variable to values
// that hold a canary, breaks every other variable, and checks that neither
// Load's error nor Secrets' errors and warnings mention the canary.
func TestSecretValuesNeverInErrors(t *testing.T) {
	const canary = "Zq7canaryXk"
	broken := map[string]string{
		"PORT": "x", "SESSION_IDLE_TIMEOUT": "x", "TRUST_PROXY": "x", "SESSION_MAX_PER_USER": "x",
	}
	secretSets := []map[string]string{
		{"REDIS_URL": "redis://u:" + canary + "@h:port" + canary},
		{"REDIS_URL": "ftp://u:" + canary + "@h"},
		{"REDIS_URL": canary},
		{"REDIS_URL": "redis://u:" + canary + "@h/%" + canary},
		{"DATABASE_URL": "postgres://u:" + canary + "@h:x" + canary + "/db"},
		{"DATABASE_URL": "mysql://u:" + canary + "@h/db"},
		{"DATABASE_URL": "postgres://" + canary + " \x7f"},
	}
	for i, secrets := range secretSets {
		t.Run(fmt.Sprint("load ", i), func(t *testing.T) {
			env := map[string]string{}
			for k, v := range broken {
				env[k] = v
			}
			for k, v := range secrets {
				env[k] = v
			}
			_, err := Load(envOf(env), noFile(t))
			if err == nil {
				t.Fatal("got nil, want a configuration error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("error %q contains a secret", err)
			}
		})
	}
	short := canary                                      // 11 bytes: too short everywhere
	long := strings.Repeat("k", MinSecretBytes) + canary // long enough
	secretCases := []map[string]string{
		{"APP_ENV": "production", "SESSION_SECRET": short},
		{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": short},
		{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": long + "," + short},
		{"SESSION_SECRET": short, "SESSION_SECRET_PREVIOUS": short + "," + short},
	}
	for i, env := range secretCases {
		t.Run(fmt.Sprint("secrets ", i), func(t *testing.T) {
			env["DATA_DIR"] = t.TempDir()
			c, err := Load(envOf(env), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			_, warnings, err := c.Secrets()
			if err == nil && len(warnings) == 0 {
				t.Fatal("got neither an error nor a warning for a short secret")
			}
			if err != nil && strings.Contains(err.Error(), canary) {
				t.Fatalf("error %q contains the secret", err)
			}
			for _, w := range warnings {
				if strings.Contains(w, canary) {
					t.Fatalf("warning %q contains the secret", w)
				}
			}
		})
	}
	// A .env file with secrets on malformed lines.
	path := writeFile(t, "REDIS_URL=redis://u:"+canary+"@h\nSESSION_SECRET=\""+canary+"\n")
	if _, err := Load(envOf(nil), path); err == nil || strings.Contains(err.Error(), canary) {
		t.Fatalf("malformed .env: got %v, want an error without the secret", err)
	}
}

func TestTrustProxy(t *testing.T) {
	cases := []struct {
		in       string
		hops     int
		networks []string
		trusts   []string
		distrust []string
	}{
		{in: "", distrust: []string{"127.0.0.1"}},
		{in: "0", distrust: []string{"127.0.0.1"}},
		{in: " 2 ", hops: 2, distrust: []string{"127.0.0.1"}},
		{
			in:       "10.0.0.0/8, 192.168.1.1, ::1, 172.16.5.4/12",
			networks: []string{"10.0.0.0/8", "192.168.1.1/32", "::1/128", "172.16.0.0/12"},
			trusts:   []string{"10.1.2.3", "192.168.1.1", "::1", "::ffff:10.9.9.9", "172.31.255.255"},
			distrust: []string{"11.0.0.1", "192.168.1.2", "::2", "172.32.0.0"},
		},
		{in: "::ffff:10.0.0.1", networks: []string{"10.0.0.1/32"}, trusts: []string{"10.0.0.1"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			tp, err := ParseTrustProxy(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if tp.Hops != tc.hops {
				t.Errorf("Hops: got %d, want %d", tp.Hops, tc.hops)
			}
			var got []string
			for _, p := range tp.Networks {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.networks, " ") {
				t.Errorf("Networks: got %v, want %v", got, tc.networks)
			}
			if want := tc.hops > 0 || len(tc.networks) > 0; tp.Enabled() != want {
				t.Errorf("Enabled: got %v, want %v", tp.Enabled(), want)
			}
			for _, a := range tc.trusts {
				if !tp.Trusts(mustAddr(t, a)) {
					t.Errorf("Trusts(%s): got false, want true", a)
				}
			}
			for _, a := range tc.distrust {
				if tp.Trusts(mustAddr(t, a)) {
					t.Errorf("Trusts(%s): got true, want false", a)
				}
			}
		})
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{
		"A=1\n", "export B='x y'\n# c\n", `C="a\"b\n"`, "D=1 # c", "=", "E", "F=\"unterminated",
		"\uFEFFG=1\r\n", "H=\"x\\\\\"", "I='' #", "export\tJ=\"\\q\"", "K= #", "L=\"\\",
	} {
		f.Add(s, "value")
	}
	f.Add("", "a b c")
	f.Add("", `quote"and'apostrophe\ and # hash`)
	f.Fuzz(func(t *testing.T, file, value string) {
		// Any input: no panic, and whatever is accepted has valid keys.
		vals, err := parseDotenv(file)
		if err == nil {
			for k := range vals {
				if !validKey(k) {
					t.Fatalf("accepted invalid key %q", k)
				}
			}
		}

		// Round trip: a value without line breaks, written double-quoted
		// with escapes, reads back exactly.
		if strings.ContainsAny(value, "\n\r") {
			return
		}
		vals, err = parseDotenv("KEY=" + dquote(value) + "\n")
		if err != nil || vals["KEY"] != value {
			t.Fatalf("KEY=%s: got %q, %v; want %q", dquote(value), vals["KEY"], err, value)
		}
		// A simple value (no quotes, #, backslash or edge spaces) reads back
		// written bare, and with the export prefix.
		if strings.ContainsAny(value, "\"'#\\") || strings.TrimSpace(value) != value {
			return
		}
		vals, err = parseDotenv("export KEY=" + value + "\nOTHER=x\n")
		if err != nil || vals["KEY"] != value || vals["OTHER"] != "x" {
			t.Fatalf("KEY=%s: got %q, %v; want %q", value, vals, err, value)
		}
	})
}

// dquote writes v as a double-quoted .env value.
func dquote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`)
	return `"` + r.Replace(v) + `"`
}

func TestBindingAndMetricsAddrValidation(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"SESSION_BINDING": {"SESSION_BINDING": "paranoid"},
		"METRICS_ADDR":    {"METRICS_ADDR": "9100"},
	} {
		if _, err := Load(envOf(env), noFile(t)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want an error naming it", name, err)
		}
	}
}

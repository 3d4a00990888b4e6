package config

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecrets(t *testing.T) {
	long := strings.Repeat("s", MinSecretBytes)
	cases := []struct {
		name     string
		env      map[string]string
		wantErr  string
		want     []string // secrets, in order
		wantWarn int
	}{
		{"production without secret", map[string]string{"APP_ENV": "production"}, "SESSION_SECRET is not set: production needs a signing secret of at least 32 random bytes; make one with `tether secret generate`", nil, 0},
		{"production short secret", map[string]string{"APP_ENV": "production", "SESSION_SECRET": "hunter2"}, "SESSION_SECRET is 7 bytes; at least 32 random bytes are needed (make one with `tether secret generate`)", nil, 0},
		{"production 31 bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long[1:]}, "SESSION_SECRET is 31 bytes", nil, 0},
		{"production short previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": "hunter2"}, "SESSION_SECRET_PREVIOUS (entry 1 of 1) is 7 bytes", nil, 0},
		{"production short second previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": long + ",hunter2"}, "SESSION_SECRET_PREVIOUS (entry 2 of 2)", nil, 0},
		{"production ignores the dev secret file", map[string]string{"APP_ENV": "production", "SESSION_SECRET": ""}, "SESSION_SECRET is not set", nil, 0},
		{"production 32 bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long}, "", []string{long}, 0},
		{"production with previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long + "a", "SESSION_SECRET_PREVIOUS": long + "b," + long + "c"}, "", []string{long + "a", long + "b", long + "c"}, 0},
		{"development short secret warns", map[string]string{"SESSION_SECRET": "hunter2"}, "", []string{"hunter2"}, 1},
		{"development short previous warns", map[string]string{"SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": "old,older"}, "", []string{long, "old", "older"}, 2},
		{"development long secret", map[string]string{"SESSION_SECRET": long}, "", []string{long}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A dev secret file must never stand in for a production secret.
			if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte(long+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tc.env["DATA_DIR"] = dir
			c, err := Load(envOf(tc.env), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			secrets, warnings, err := c.Secrets()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", secrets, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q echoes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			var got []string
			for _, s := range secrets {
				got = append(got, string(s))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("secrets: got %q, want %q", got, tc.want)
			}
			if len(warnings) != tc.wantWarn {
				t.Errorf("warnings: got %q, want %d", warnings, tc.wantWarn)
			}
			for _, w := range warnings {
				if !strings.Contains(w, "development only") || !strings.Contains(w, "tether secret generate") {
					t.Errorf("warning %q: want it to say development only and how to make a secret", w)
				}
			}
		})
	}
}

func TestDevSecretGeneratedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	load := func() *Config {
		c, err := Load(envOf(map[string]string{"DATA_DIR": dir}), noFile(t))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first, warnings, err := load().Secrets()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || len(warnings) != 0 {
		t.Fatalf("got %d secrets and warnings %q, want one secret and no warning", len(first), warnings)
	}
	if _, err := hex.DecodeString(string(first[0])); err != nil || len(first[0]) != 2*GeneratedSecretBytes {
		t.Fatalf("generated secret: got %d bytes (hex: %v), want %d hex digits", len(first[0]), err == nil, 2*GeneratedSecretBytes)
	}
	path := filepath.Join(dir, SecretFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode: got %04o, want 0600", st.Mode().Perm())
	}
	if dst, err := os.Stat(dir); err != nil || dst.Mode().Perm() != 0o700 {
		t.Errorf("DATA_DIR mode: got %v (%v), want 0700", dst.Mode().Perm(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != string(first[0]) {
		t.Errorf("file holds a different secret than the one returned")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("DATA_DIR: got %d entries, want only %s (no temporary file left)", len(entries), SecretFile)
	}
	// A restart (a new Config) reads the same secret.
	second, _, err := load().Secrets()
	if err != nil || string(second[0]) != string(first[0]) {
		t.Fatalf("second start: got %v, want the stored secret", err)
	}
}

func TestDevSecretConcurrentStarts(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(envOf(map[string]string{"DATA_DIR": dir}), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _, err := c.Secrets()
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = string(s[0])
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("concurrent first starts: got different secrets (%d and 0); want one", i)
		}
	}
}

func TestDevSecretFileRefused(t *testing.T) {
	good := strings.Repeat("a", 64) + "\n"
	cases := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"group readable", func(t *testing.T, path string) { write(t, path, good, 0o640) }, "can be read by other users (mode 0640); run: chmod 600"},
		{"world readable", func(t *testing.T, path string) { write(t, path, good, 0o604) }, "mode 0604"},
		{"empty", func(t *testing.T, path string) { write(t, path, " \n", 0o600) }, "is empty; delete it"},
		{"oversized", func(t *testing.T, path string) { write(t, path, strings.Repeat("a", maxSecretFileBytes+1), 0o600) }, "larger than"},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SecretFile)
			tc.setup(t, path)
			c, err := Load(envOf(map[string]string{"DATA_DIR": dir}), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Secrets(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and containing %q", err, path, tc.want)
			}
		})
	}
	t.Run("short file warns", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, SecretFile), "hunter2\n", 0o600)
		c, _ := Load(envOf(map[string]string{"DATA_DIR": dir}), noFile(t))
		s, warnings, err := c.Secrets()
		if err != nil || string(s[0]) != "hunter2" || len(warnings) != 1 || strings.Contains(warnings[0], "hunter2") {
			t.Fatalf("got %q %q %v, want the file's secret and one warning without it", s, warnings, err)
		}
	})
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by umask
		t.Fatal(err)
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateSecret()
	if len(a) != 128 {
		t.Errorf("length: got %d, want 128 hex digits", len(a))
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Errorf("got %v, want hex", err)
	}
	if a == b {
		t.Error("two generated secrets are equal")
	}
}

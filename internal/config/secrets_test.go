package config

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecrets(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 4) // 64 hex digits: 32 bytes
	b64 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", MinSecretBytes)))
	b64short := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("k", MinSecretBytes-1)))
	phrase := "correct horse battery staple, twice over: correct horse" // 55 characters, not hex or base64
	cases := []struct {
		name     string
		env      map[string]string
		wantErr  string
		want     []string // secrets, in order
		wantWarn []string // one substring per warning, in order
	}{
		{"production without secret", map[string]string{"APP_ENV": "production"}, "SESSION_SECRET is not set: production needs a signing secret of at least 32 random bytes; make one with `tether secret generate`", nil, nil},
		{"production short secret", map[string]string{"APP_ENV": "production", "SESSION_SECRET": "hunter2!"}, "SESSION_SECRET is a passphrase of 8 characters; at least 32 random bytes are needed (make a secret with `tether secret generate`)", nil, nil},
		{"production 31 hex bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long[2:]}, "SESSION_SECRET holds 31 bytes as hex (62 digits); at least 32 random bytes are needed", nil, nil},
		{"production 32 characters of hex are 16 bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long[:32]}, "SESSION_SECRET holds 16 bytes as hex (32 digits)", nil, nil},
		{"production 31 base64 bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": b64short}, "SESSION_SECRET holds 31 bytes as base64 (42 characters)", nil, nil},
		{"production short previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": "hunter2!"}, "SESSION_SECRET_PREVIOUS (entry 1 of 1) is a passphrase of 8 characters", nil, nil},
		{"production short second previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": long + ",hunter2!"}, "SESSION_SECRET_PREVIOUS (entry 2 of 2)", nil, nil},
		{"production ignores the dev secret file", map[string]string{"APP_ENV": "production", "SESSION_SECRET": ""}, "SESSION_SECRET is not set", nil, nil},
		{"production 32 hex bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long}, "", []string{long}, nil},
		{"production 32 base64 bytes", map[string]string{"APP_ENV": "production", "SESSION_SECRET": b64}, "", []string{b64}, nil},
		{"production with previous", map[string]string{"APP_ENV": "production", "SESSION_SECRET": long + "aa", "SESSION_SECRET_PREVIOUS": long + "bb," + b64}, "", []string{long + "aa", long + "bb", b64}, nil},
		{"production passphrase is accepted with a warning", map[string]string{"APP_ENV": "production", "SESSION_SECRET": phrase}, "", []string{phrase},
			[]string{"SESSION_SECRET is a passphrase of 55 characters, not hex or base64: typed text holds far fewer than 32 random bytes; replace it with one from `tether secret generate`"}},
		{"development short secret warns", map[string]string{"SESSION_SECRET": "hunter2!"}, "", []string{"hunter2!"},
			[]string{"SESSION_SECRET is a passphrase of 8 characters; at least 32 random bytes are needed (make a secret with `tether secret generate`); accepted in development only"}},
		{"development 32 hex characters warn", map[string]string{"SESSION_SECRET": long[:32]}, "", []string{long[:32]}, []string{"SESSION_SECRET holds 16 bytes as hex (32 digits)"}},
		{"development short previous warns", map[string]string{"SESSION_SECRET": long, "SESSION_SECRET_PREVIOUS": "old!,older!"}, "", []string{long, "old!", "older!"},
			[]string{"SESSION_SECRET_PREVIOUS (entry 1 of 2) is a passphrase of 4 characters", "SESSION_SECRET_PREVIOUS (entry 2 of 2) is a passphrase of 6 characters"}},
		{"development passphrase warns", map[string]string{"SESSION_SECRET": phrase}, "", []string{phrase}, []string{"not hex or base64"}},
		{"development long secret", map[string]string{"SESSION_SECRET": long}, "", []string{long}, nil},
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
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), long[:16]) {
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
			if len(warnings) != len(tc.wantWarn) {
				t.Fatalf("warnings: got %q, want %d containing %q", warnings, len(tc.wantWarn), tc.wantWarn)
			}
			for i, w := range warnings {
				if !strings.Contains(w, tc.wantWarn[i]) || !strings.Contains(w, "tether secret generate") {
					t.Errorf("warning %d: got %q, want it to contain %q and say how to make a secret", i, w, tc.wantWarn[i])
				}
				for _, s := range tc.want {
					if strings.Contains(w, s) {
						t.Errorf("warning %q contains a secret", w)
					}
				}
			}
		})
	}
}

func TestMeasureSecret(t *testing.T) {
	gen, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(strings.Repeat("\xfb\xff", 16)) // 32 bytes whose base64 uses + and / (or - and _)
	cases := []struct {
		name   string
		secret string
		want   SecretStrength
		desc   string
	}{
		{"generated", gen, SecretStrength{Bytes: GeneratedSecretBytes, Encoding: SecretHex, Chars: 2 * GeneratedSecretBytes}, "64 bytes as hex (128 digits)"},
		{"openssl rand -hex 32", strings.Repeat("a1B2", 16), SecretStrength{32, SecretHex, 64}, "32 bytes as hex (64 digits)"},
		{"odd hex digit count is base64", strings.Repeat("a", 63), SecretStrength{47, SecretBase64, 63}, "47 bytes as base64 (63 characters)"},
		{"openssl rand -base64 32", base64.StdEncoding.EncodeToString(raw), SecretStrength{32, SecretBase64, 44}, "32 bytes as base64 (44 characters)"},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(raw), SecretStrength{32, SecretBase64, 43}, "32 bytes as base64 (43 characters)"},
		{"alphanumeric counts as base64", strings.Repeat("pwgenXyz", 8), SecretStrength{48, SecretBase64, 64}, "48 bytes as base64 (64 characters)"},
		{"mixed alphabets are a passphrase", "ab+/cd-_" + strings.Repeat("x", 32), SecretStrength{40, SecretPassphrase, 40}, "a passphrase of 40 characters"},
		{"spaces make a passphrase", "correct horse battery staple", SecretStrength{28, SecretPassphrase, 28}, "a passphrase of 28 characters"},
		{"one character", "x", SecretStrength{1, SecretPassphrase, 1}, "a passphrase of 1 characters"},
		{"empty", "", SecretStrength{0, SecretPassphrase, 0}, "a passphrase of 0 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := MeasureSecret(tc.secret)
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if d := got.String(); d != tc.desc {
				t.Fatalf("String: got %q, want %q", d, tc.desc)
			}
		})
	}
}

// FuzzMeasureSecret checks that the count agrees with the encoding it names
// and never exceeds the string's length.
func FuzzMeasureSecret(f *testing.F) {
	for _, s := range []string{"", "x", "00", "abcd", "ab==", "a+/b", "a-_b", "hunter2", strings.Repeat("f", 128)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st := MeasureSecret(s)
		if st.Chars != len(s) || st.Bytes > len(s) || st.Bytes < 0 {
			t.Fatalf("%q: got %+v, want Chars = %d and 0 <= Bytes <= Chars", s, st, len(s))
		}
		switch st.Encoding {
		case SecretHex:
			if b, err := hex.DecodeString(s); err != nil || len(b) != st.Bytes {
				t.Fatalf("%q: got %+v, but hex decoding gives %d bytes, %v", s, st, len(b), err)
			}
		case SecretBase64:
			ok := false
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(s); err == nil && len(b) == st.Bytes {
					ok = true
				}
			}
			if !ok || st.Bytes == 0 {
				t.Fatalf("%q: got %+v, but no base64 decoding gives that", s, st)
			}
		case SecretPassphrase:
			if st.Bytes != len(s) {
				t.Fatalf("%q: got %+v, want a passphrase counted at its length", s, st)
			}
		default:
			t.Fatalf("%q: unknown encoding %q", s, st.Encoding)
		}
	})
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

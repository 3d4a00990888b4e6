package config

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestEncryptionKeys(t *testing.T) {
	k1, k2, k3 := strings.Repeat("a1", 32), strings.Repeat("B2", 32), strings.Repeat("c3", 32)
	dec := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	cases := []struct {
		name     string
		key, old string
		want     [][]byte
		wantErr  string // substring; "" means no error
	}{
		{"unset: encryption off", "", "", nil, ""},
		{"one key", k1, "", [][]byte{dec(k1)}, ""},
		{"upper-case hex, spaces trimmed", " " + k2 + " ", "", [][]byte{dec(k2)}, ""},
		{"with previous keys, newest first", k1, k2 + ", " + k3, [][]byte{dec(k1), dec(k2), dec(k3)}, ""},
		{"previous without current", "", k2, nil, "SESSION_ENCRYPTION_KEY_PREVIOUS is set without SESSION_ENCRYPTION_KEY"},
		{"too short", k1[:62], "", nil, "SESSION_ENCRYPTION_KEY: not 64 hex digits (62 characters"},
		{"too long", k1 + "00", "", nil, "SESSION_ENCRYPTION_KEY: not 64 hex digits (66 characters"},
		{"not hex", strings.Repeat("zz", 32), "", nil, "SESSION_ENCRYPTION_KEY: not 64 hex digits"},
		{"a passphrase", "correct horse battery staple", "", nil, "SESSION_ENCRYPTION_KEY: not 64 hex digits"},
		{"bad previous entry", k1, k2 + ",xyz", nil, "SESSION_ENCRYPTION_KEY_PREVIOUS entry 2: not 64 hex digits"},
		{"previous repeats current", k1, strings.ToUpper(k1), nil, "SESSION_ENCRYPTION_KEY_PREVIOUS repeats a key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(envOf(map[string]string{"SESSION_ENCRYPTION_KEY": tc.key, "SESSION_ENCRYPTION_KEY_PREVIOUS": tc.old}), noFile(t))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: got %v, want an error containing %q", err, tc.wantErr)
				}
				for _, v := range []string{tc.key, tc.old, "zz", "horse"} {
					if v = strings.TrimSpace(v); len(v) > 1 && strings.Contains(err.Error(), v) {
						t.Fatalf("Load: the error shows the value %q: %v", v, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			if len(c.EncryptionKeys) != len(tc.want) {
				t.Fatalf("EncryptionKeys: got %d keys, want %d", len(c.EncryptionKeys), len(tc.want))
			}
			for i := range tc.want {
				if !bytes.Equal(c.EncryptionKeys[i], tc.want[i]) {
					t.Fatalf("EncryptionKeys[%d]: got %x, want %x", i, c.EncryptionKeys[i], tc.want[i])
				}
			}
		})
	}
}

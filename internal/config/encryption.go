package config

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tetherhq/tether"
)

// parseEncryptionKeys decodes SESSION_ENCRYPTION_KEY (current) and
// SESSION_ENCRYPTION_KEY_PREVIOUS (previous: a comma list, newest first)
// into [tether.Config.EncryptionKeys]: the current key first. Each is
// exactly 32 bytes as 64 hex digits. Both unset: nil, encryption off.
// Problems are returned one per message, naming the variable and never
// showing a value.
func parseEncryptionKeys(current, previous string) (keys [][]byte, errs []string) {
	current = strings.TrimSpace(current)
	var prev []string
	for _, s := range strings.Split(previous, ",") {
		if s = strings.TrimSpace(s); s != "" {
			prev = append(prev, s)
		}
	}
	if current == "" {
		if len(prev) > 0 {
			errs = append(errs, "SESSION_ENCRYPTION_KEY_PREVIOUS is set without SESSION_ENCRYPTION_KEY: set the current key too (previous keys only decrypt)")
		}
		return nil, errs
	}
	decode := func(name, s string) {
		k, err := hex.DecodeString(s)
		if err != nil || len(k) != tether.EncryptionKeyBytes {
			errs = append(errs, fmt.Sprintf("%s: not %d hex digits (%d characters; value not shown); generate a key with `openssl rand -hex %d`",
				name, 2*tether.EncryptionKeyBytes, len(s), tether.EncryptionKeyBytes))
			return
		}
		for _, o := range keys {
			if bytes.Equal(o, k) {
				errs = append(errs, fmt.Sprintf("%s repeats a key given before it; each key must be different", name))
				return
			}
		}
		keys = append(keys, k)
	}
	decode("SESSION_ENCRYPTION_KEY", current)
	for i, s := range prev {
		name := "SESSION_ENCRYPTION_KEY_PREVIOUS"
		if len(prev) > 1 {
			name = fmt.Sprintf("SESSION_ENCRYPTION_KEY_PREVIOUS entry %d", i+1)
		}
		decode(name, s)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return keys, nil
}

package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinSecretBytes is the shortest secret production accepts.
const MinSecretBytes = 32

// SecretFile is the development secret's file name inside DATA_DIR.
const SecretFile = "session.secret"

// GenerateSecret returns 64 random bytes, hex-encoded.
func GenerateSecret() (string, error) {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Secrets returns the signing secrets, current first, then previous ones.
//
// Production: SESSION_SECRET must be set and every secret at least
// MinSecretBytes long, or Secrets fails with a message naming the variable.
// Development without SESSION_SECRET: a secret is generated once into
// DATA_DIR/session.secret (mode 0600) and read back on later starts, so
// restarts keep sessions. Short secrets in development are accepted with a
// warning, returned for the caller to log.
func (c *Config) Secrets() (secrets [][]byte, warnings []string, err error) {
	cur := c.SessionSecret
	if cur == "" {
		if c.Production() {
			return nil, nil, errors.New("SESSION_SECRET is not set: production needs a signing secret of at least 32 random bytes; make one with `tether secret generate`")
		}
		cur, err = c.devSecret()
		if err != nil {
			return nil, nil, err
		}
	}
	all := append([]string{cur}, c.SessionSecretPrevious...)
	for i, s := range all {
		name := "SESSION_SECRET"
		if i > 0 {
			name = fmt.Sprintf("SESSION_SECRET_PREVIOUS (entry %d)", i)
		}
		if len(s) < MinSecretBytes {
			msg := fmt.Sprintf("%s is %d bytes; at least %d random bytes are needed (make one with `tether secret generate`)", name, len(s), MinSecretBytes)
			if c.Production() {
				return nil, nil, errors.New(msg)
			}
			warnings = append(warnings, msg+"; accepted in development only")
		}
		secrets = append(secrets, []byte(s))
	}
	return secrets, warnings, nil
}

// devSecret reads DATA_DIR/session.secret, creating it on first use.
func (c *Config) devSecret() (string, error) {
	path := filepath.Join(c.DataDir, SecretFile)
	if b, err := os.ReadFile(path); err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s is readable by other users (mode %v); run: chmod 600 %s", path, st.Mode().Perm(), path)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s is empty; delete it to have a new secret generated", path)
		}
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read development secret: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("create DATA_DIR: %w", err)
	}
	s, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(c.DataDir, ".session.secret-*")
	if err != nil {
		return "", fmt.Errorf("write development secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(s + "\n")
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			// Link, not rename: if another process created the file first,
			// keep theirs so both use one secret.
			if err = os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
				return c.devSecret()
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("write development secret: %w", err)
	}
	return s, nil
}

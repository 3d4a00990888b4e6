package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MinSecretBytes is the fewest random bytes a production signing secret
// must hold: 32, the HMAC-SHA256 key size. They are counted by
// [MeasureSecret], not as the length of the string: a hex secret needs 64
// hex digits, a base64 one 43 characters (44 with padding).
const MinSecretBytes = 32

// GeneratedSecretBytes is the number of random bytes in a generated secret
// (hex-encoded, so the secret string is twice as long).
const GeneratedSecretBytes = 64

// SecretFile is the development secret's file name inside DATA_DIR.
const SecretFile = "session.secret"

// maxSecretFileBytes bounds the development secret file.
const maxSecretFileBytes = 4096

// GenerateSecret returns GeneratedSecretBytes bytes from crypto/rand,
// hex-encoded: the value `tether secret generate` prints.
func GenerateSecret() (string, error) {
	b := make([]byte, GeneratedSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Encodings [MeasureSecret] recognises.
const (
	SecretHex        = "hex"        // only hex digits, an even number of them
	SecretBase64     = "base64"     // standard or URL-safe base64, padded or not
	SecretPassphrase = "passphrase" // anything else: typed text, not random output
)

// SecretStrength is what [MeasureSecret] makes of a secret string.
type SecretStrength struct {
	// Bytes is the number of random bytes the string can carry: half the
	// digits of a hex string, the decoded length of a base64 one, and the
	// length in bytes of a passphrase (an upper bound: typed text holds far
	// less randomness than its length).
	Bytes int
	// Encoding is SecretHex, SecretBase64 or SecretPassphrase.
	Encoding string
	// Chars is the length of the string in bytes.
	Chars int
}

// Random reports whether the string looks like the encoding of random
// bytes (hex or base64) rather than a passphrase.
func (st SecretStrength) Random() bool { return st.Encoding != SecretPassphrase }

// String describes the strength without revealing the secret: "64 bytes as
// hex (128 digits)", "32 bytes as base64 (44 characters)" or "a passphrase
// of 20 characters".
func (st SecretStrength) String() string {
	switch st.Encoding {
	case SecretHex:
		return fmt.Sprintf("%d bytes as hex (%d digits)", st.Bytes, st.Chars)
	case SecretBase64:
		return fmt.Sprintf("%d bytes as base64 (%d characters)", st.Bytes, st.Chars)
	}
	return fmt.Sprintf("a passphrase of %d characters", st.Chars)
}

// MeasureSecret counts the random bytes a secret string can hold, read from
// its encoding: a string of hex digits of even length is hex (2 digits a
// byte, as `tether secret generate` and `openssl rand -hex` print), else a
// string in the standard or URL-safe base64 alphabet, padded or not, is
// base64 (its decoded length; `openssl rand -base64`), else it is a
// passphrase counted at its length in bytes. Hex is tried first, so a
// string that is both counts as the smaller number. The key material stays
// the string's own bytes (nothing is decoded for signing), so the rule
// changes what is accepted, never the cookies a secret signs.
func MeasureSecret(s string) SecretStrength {
	st := SecretStrength{Chars: len(s)}
	if len(s) > 0 && len(s)%2 == 0 && isHex(s) {
		st.Bytes, st.Encoding = len(s)/2, SecretHex
		return st
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			st.Bytes, st.Encoding = len(b), SecretBase64
			return st
		}
	}
	st.Bytes, st.Encoding = len(s), SecretPassphrase
	return st
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Secrets returns the signing secrets for tether.Config.Secrets: the current
// one first, then SESSION_SECRET_PREVIOUS in order. The bytes of each secret
// string are the key material (a hex or base64 secret is not decoded).
//
// Each secret's strength is counted in random bytes by [MeasureSecret], not
// by the length of the string. Production: SESSION_SECRET must be set, and
// it and every previous secret must hold at least MinSecretBytes random
// bytes; otherwise Secrets fails with a message that names the variable,
// says what it holds and says to run `tether secret generate`. A passphrase
// long enough to pass adds a warning that it is typed text, not random
// bytes.
//
// Development without SESSION_SECRET: the secret is read from
// DATA_DIR/session.secret, which is generated on first use (DATA_DIR is
// created with mode 0700, the file with 0600, written to a temporary file and
// linked into place so a concurrent process never sees a partial file and
// both end up with the same secret), so restarts keep sessions. A file that
// group or other users can read, or that is not a regular file, is refused.
// Secrets under MinSecretBytes random bytes are accepted in development;
// each one adds a warning, returned for the caller to log.
//
// Neither errors nor warnings contain a secret.
func (c *Config) Secrets() (secrets [][]byte, warnings []string, err error) {
	cur := c.SessionSecret
	if cur == "" {
		if c.Production() {
			return nil, nil, fmt.Errorf("SESSION_SECRET is not set: production needs a signing secret of at least %d random bytes; make one with `tether secret generate` and put it in the environment or .env", MinSecretBytes)
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
			name = fmt.Sprintf("SESSION_SECRET_PREVIOUS (entry %d of %d)", i, len(all)-1)
		}
		st := MeasureSecret(s)
		switch {
		case st.Bytes < MinSecretBytes:
			msg := fmt.Sprintf("%s %s; at least %d random bytes are needed (make a secret with `tether secret generate`)", name, holds(st), MinSecretBytes)
			if c.Production() {
				return nil, nil, errors.New(msg)
			}
			warnings = append(warnings, msg+"; accepted in development only")
		case !st.Random():
			msg := fmt.Sprintf("%s is %s, not hex or base64: typed text holds far fewer than %d random bytes; replace it with one from `tether secret generate`", name, st, MinSecretBytes)
			if i == 0 {
				msg += " (move this one to SESSION_SECRET_PREVIOUS so nobody is logged out)"
			}
			warnings = append(warnings, msg)
		}
		secrets = append(secrets, []byte(s))
	}
	return secrets, warnings, nil
}

// holds says what a secret holds, for a message after its name: "holds 16
// bytes as hex (32 digits)" or "is a passphrase of 7 characters".
func holds(st SecretStrength) string {
	if st.Random() {
		return "holds " + st.String()
	}
	return "is " + st.String()
}

// DevSecretPath is where a development secret lives.
func (c *Config) DevSecretPath() string { return filepath.Join(c.DataDir, SecretFile) }

// devSecret reads DATA_DIR/session.secret, creating it on first use.
func (c *Config) devSecret() (string, error) {
	path := c.DevSecretPath()
	s, err := readSecretFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("create DATA_DIR for the development secret: %w", err)
	}
	s, err = GenerateSecret()
	if err != nil {
		return "", err
	}
	switch err := writeNewFile(path, []byte(s+"\n")); {
	case errors.Is(err, os.ErrExist):
		// Another process won the race: use its secret.
		return readSecretFile(path)
	case err != nil:
		return "", fmt.Errorf("write development secret %s: %w", path, err)
	}
	return s, nil
}

// readSecretFile reads a secret file, refusing one that others can read.
// An error wrapping os.ErrNotExist means the file does not exist.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("read development secret: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read development secret: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("development secret %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("development secret %s can be read by other users (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read development secret: %w", err)
	}
	if len(b) > maxSecretFileBytes {
		return "", fmt.Errorf("development secret %s is larger than %d bytes; delete it to have a new one generated", path, maxSecretFileBytes)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("development secret %s is empty; delete it to have a new one generated", path)
	}
	return s, nil
}

// writeNewFile writes data to path with mode 0600, atomically, failing with
// an error wrapping os.ErrExist if path already exists. It writes a temporary
// file in the same directory, syncs it, and hard-links it into place (a
// rename would silently replace a file another process created meanwhile).
// On file systems without hard links it falls back to a rename after an
// existence check.
func writeNewFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil { // CreateTemp uses 0600; be explicit
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		if _, serr := os.Lstat(path); serr == nil {
			return os.ErrExist
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return err
		}
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

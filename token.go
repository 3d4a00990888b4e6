package tether

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
)

// TokenBytes is the size of a session token: 256 bits from crypto/rand.
const TokenBytes = 32

// macLabel separates the cookie MAC from any other use of the secrets.
const macLabel = "tether/cookie/v1\x00"

// b64 is strict: non-zero trailing bits are refused, so every token has exactly
// one accepted cookie value (found by FuzzVerify: a flipped final bit verified).
var b64 = base64.RawURLEncoding.Strict()

// encodedLen is the length of a well-formed cookie value:
// base64url(token) "." base64url(HMAC-SHA256).
var encodedLen = 2*b64.EncodedLen(TokenBytes) + 1

// signer signs tokens with the first secret and verifies with all of them.
// Keyed HMAC states are pooled per secret so verification allocates little.
type signer struct {
	pools []*sync.Pool
}

func newSigner(secrets [][]byte) *signer {
	s := &signer{}
	for _, sec := range secrets {
		key := append([]byte(nil), sec...)
		s.pools = append(s.pools, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	}
	return s
}

func (s *signer) mac(i int, token []byte, out []byte) []byte {
	h := s.pools[i].Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(macLabel))
	h.Write(token)
	out = h.Sum(out)
	s.pools[i].Put(h)
	return out
}

// sign returns the cookie value for token.
func (s *signer) sign(token []byte) string {
	var buf [sha256.Size]byte
	mac := s.mac(0, token, buf[:0])
	var b strings.Builder
	b.Grow(encodedLen)
	b.WriteString(b64.EncodeToString(token))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(mac))
	return b.String()
}

// verify decodes a cookie value and checks its MAC against every secret with a
// constant-time compare. It returns the token and the index of the secret that
// verified it (0 = current). ok is false for anything malformed or forged.
func (s *signer) verify(value string) (token []byte, secret int, ok bool) {
	if len(value) != encodedLen || value[b64.EncodedLen(TokenBytes)] != '.' {
		return nil, 0, false
	}
	tok := make([]byte, TokenBytes)
	n, err := b64.Decode(tok, []byte(value[:b64.EncodedLen(TokenBytes)]))
	if err != nil || n != TokenBytes {
		return nil, 0, false
	}
	var got [sha256.Size]byte
	n, err = b64.Decode(got[:], []byte(value[b64.EncodedLen(TokenBytes)+1:]))
	if err != nil || n != sha256.Size {
		return nil, 0, false
	}
	var buf [sha256.Size]byte
	for i := range s.pools {
		if hmac.Equal(s.mac(i, tok, buf[:0]), got[:]) {
			return tok, i, true
		}
	}
	return nil, 0, false
}

// newToken returns [TokenBytes] from crypto/rand.
func newToken() []byte {
	t := make([]byte, TokenBytes)
	// crypto/rand.Read never returns an error on supported platforms
	// (it crashes the program instead), so there is nothing to handle.
	_, _ = rand.Read(t)
	return t
}

// storeKey is the key a token is stored under: hex SHA-256 of the token. A
// dump of the store therefore yields no usable cookie.
func storeKey(token []byte) string {
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:])
}

// deriveKey derives a purpose-bound key from a secret.
func deriveKey(secret []byte, label string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	return h.Sum(nil)
}

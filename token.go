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

// maxB64Part is the longest base64 part of a cookie value: the token and
// renewal secret, or the MAC (unpadded base64, 4 characters per 3 bytes).
const maxB64Part = max(((TokenBytes+RenewSecretBytes)*8+5)/6, (sha256.Size*8+5)/6)

// macLabelBytes is macLabel for hash.Hash.Write: converting the constant
// in the call would allocate a copy per MAC (the interface call lets it
// escape). Never written.
var macLabelBytes = []byte(macLabel)

// b64 is strict: non-zero trailing bits are refused, so every token has exactly
// one accepted cookie value (found by FuzzVerify: a flipped final bit verified).
var b64 = base64.RawURLEncoding.Strict()

// RenewSecretBytes is the size of the renewal secret that a version-2 cookie
// carries after the token (see [Config.RenewInterval]): 128 bits from
// crypto/rand.
const RenewSecretBytes = 16

// encodedLen is the length of a well-formed version-1 cookie value:
// base64url(token) "." base64url(HMAC-SHA256). encodedLen2 is that of a
// version-2 value, base64url(token || renewal secret) "." base64url(HMAC),
// which sessions with renewal on carry. Both lengths are fixed, so a value
// is one or the other, never ambiguous.
var (
	encodedLen  = b64.EncodedLen(TokenBytes) + 1 + b64.EncodedLen(sha256.Size)
	encodedLen2 = b64.EncodedLen(TokenBytes+RenewSecretBytes) + 1 + b64.EncodedLen(sha256.Size)
)

// signer signs tokens with the first secret and verifies with all of them.
// Keyed HMAC states are pooled per secret so verification allocates little.
type signer struct {
	pools []*sync.Pool // of *macState
}

// macState is a keyed HMAC with room for its sum, so that computing one
// allocates nothing (a sum written into a caller's array would move that
// array to the heap: Sum is an interface call).
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newSigner(secrets [][]byte) *signer {
	s := &signer{}
	for _, sec := range secrets {
		key := append([]byte(nil), sec...)
		s.pools = append(s.pools, &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, key)} }})
	}
	return s
}

// mac returns the MAC of payload (the token, or the token and the renewal
// secret) appended to out.
func (s *signer) mac(i int, payload []byte, out []byte) []byte {
	st := s.pools[i].Get().(*macState)
	out = append(out, st.compute(payload)...)
	s.pools[i].Put(st)
	return out
}

// macEqual reports whether want is the MAC of payload under secret i,
// compared in constant time.
func (s *signer) macEqual(i int, payload, want []byte) bool {
	st := s.pools[i].Get().(*macState)
	ok := hmac.Equal(st.compute(payload), want)
	s.pools[i].Put(st)
	return ok
}

// compute returns the MAC of payload, in st.sum.
func (st *macState) compute(payload []byte) []byte {
	st.h.Reset()
	st.h.Write(macLabelBytes)
	st.h.Write(payload)
	return st.h.Sum(st.sum[:0])
}

// sign returns the cookie value for token and renewal secret rs: version 1
// when rs is empty, version 2 otherwise.
func (s *signer) sign(token, rs []byte) string {
	var pbuf [TokenBytes + RenewSecretBytes]byte
	payload := append(append(pbuf[:0], token...), rs...)
	var buf [sha256.Size]byte
	mac := s.mac(0, payload, buf[:0])
	var b strings.Builder
	b.Grow(encodedLen2)
	b.WriteString(b64.EncodeToString(payload))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(mac))
	return b.String()
}

// verify decodes a cookie value, of either version, and checks its MAC
// against every secret with a constant-time compare. It returns the token,
// the renewal secret (nil for a version-1 value) and the index of the
// secret that verified it (0 = current). ok is false for anything
// malformed or forged. Decoding is strict: exactly one value verifies for a
// token and renewal secret.
func (s *signer) verify(value string) (token, rs []byte, secret int, ok bool) {
	return s.verifyInto(new(cookiePayload), value)
}

// cookiePayload holds a decoded cookie value's token and renewal secret.
type cookiePayload [TokenBytes + RenewSecretBytes]byte

// verifyInto is verify that decodes into buf, which token and rs then
// share (the Session keeps one, so that a request's verification allocates
// nothing of its own).
func (s *signer) verifyInto(buf *cookiePayload, value string) (token, rs []byte, secret int, ok bool) {
	var n int
	switch len(value) {
	case encodedLen:
		n = TokenBytes
	case encodedLen2:
		n = TokenBytes + RenewSecretBytes
	default:
		return nil, nil, 0, false
	}
	el := b64.EncodedLen(n)
	if value[el] != '.' {
		return nil, nil, 0, false
	}
	payload := buf[:n:n]
	// The base64 text is copied to the stack: a []byte conversion of more
	// than 32 bytes would be a heap allocation.
	var text [maxB64Part]byte
	got, err := b64.Decode(payload, text[:copy(text[:], value[:el])])
	if err != nil || got != n {
		return nil, nil, 0, false
	}
	var want [sha256.Size]byte
	got, err = b64.Decode(want[:], text[:copy(text[:], value[el+1:])])
	if err != nil || got != sha256.Size {
		return nil, nil, 0, false
	}
	for i := range s.pools {
		if s.macEqual(i, payload, want[:]) {
			if n > TokenBytes {
				rs = payload[TokenBytes:]
			}
			return payload[:TokenBytes:TokenBytes], rs, i, true
		}
	}
	return nil, nil, 0, false
}

// newToken returns [TokenBytes] from crypto/rand.
func newToken() []byte { return randomBytes(TokenBytes) }

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	t := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms
	// (it crashes the program instead), so there is nothing to handle.
	_, _ = rand.Read(t)
	return t
}

// storeKey is the key a token is stored under: hex SHA-256 of the token. A
// dump of the store therefore yields no usable cookie.
func storeKey(token []byte) string {
	sum := sha256.Sum256(token)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:]) // one allocation; hex.EncodeToString makes two
}

// deriveKey derives a purpose-bound key from a secret.
func deriveKey(secret []byte, label string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	return h.Sum(nil)
}

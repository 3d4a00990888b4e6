package dbsc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// Algorithms this package verifies.
const (
	AlgES256 = "ES256" // ECDSA P-256 SHA-256, signature r||s (RFC 7518 3.4)
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 SHA-256 (RFC 7518 3.3)
)

// RSA key limits. 2048 bits is the floor of RFC 7518 and what TPMs make;
// 4096 bounds the cost of a verification an attacker can ask for. The
// exponent must be 65537, what every TPM, Chromium and crypto library use:
// other exponents are legal but buy nothing here, and a huge one makes
// verification slow.
const (
	MinRSABits = 2048
	MaxRSABits = 4096
)

// ErrKey is returned for a proof whose key is missing, present where it
// must not be, malformed, of the wrong type for alg, weak, or carrying
// private members.
var ErrKey = errors.New("dbsc: bad or misplaced key")

// PublicKey is a browser's DBSC public key, from the jwk of its
// registration proof. Store it with the session ([PublicKey.MarshalJSON],
// [ParsePublicKey]) and give it to [VerifyRefresh].
type PublicKey struct {
	alg   string
	ec    *ecdsa.PublicKey
	rsa   *rsa.PublicKey
	jwk   []byte // RFC 7638 canonical form: required members, sorted, no spaces
	thumb string
}

// Algorithm returns "ES256" or "RS256".
func (k *PublicKey) Algorithm() string { return k.alg }

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, unpadded
// base64url): a short identifier of the key, to show or to compare.
func (k *PublicKey) Thumbprint() string { return k.thumb }

// Equal reports whether k and o are the same key (same algorithm and
// thumbprint), in constant time.
func (k *PublicKey) Equal(o *PublicKey) bool {
	if k == nil || o == nil {
		return false
	}
	return k.alg == o.alg && subtle.ConstantTimeCompare([]byte(k.thumb), []byte(o.thumb)) == 1
}

// MarshalJSON returns {"alg":"…","jwk":{canonical JWK}}, the form
// [ParsePublicKey] reads.
func (k *PublicKey) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32+len(k.jwk))
	b = append(b, `{"alg":"`...)
	b = append(b, k.alg...)
	b = append(b, `","jwk":`...)
	b = append(b, k.jwk...)
	return append(b, '}'), nil
}

// ParsePublicKey reads a key stored with [PublicKey.MarshalJSON], with the
// same checks as a registration proof's jwk.
func ParsePublicKey(stored []byte) (*PublicKey, error) {
	m, err := parseObject(stored)
	if err != nil || len(m) != 2 {
		return nil, ErrKey
	}
	alg, _, err := stringMember(m, "alg", 8)
	if err != nil || (alg != AlgES256 && alg != AlgRS256) {
		return nil, ErrKey
	}
	raw, ok := m["jwk"]
	if !ok {
		return nil, ErrKey
	}
	return parseJWK(alg, raw)
}

// privateMembers are JWK members that hold private key material (RFC 7518
// section 6): a key that shows them is not bound to any device.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK reads the jwk of a proof signed with alg.
func parseJWK(alg string, raw json.RawMessage) (*PublicKey, error) {
	m, err := parseObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: jwk is not a JSON object", ErrKey)
	}
	for _, p := range privateMembers {
		if _, ok := m[p]; ok {
			return nil, fmt.Errorf("%w: jwk holds private key material", ErrKey)
		}
	}
	if a, present, err := stringMember(m, "alg", 8); err != nil || (present && a != alg) {
		return nil, fmt.Errorf("%w: jwk alg differs from the header's", ErrKey)
	}
	kty, _, err := stringMember(m, "kty", 8)
	if err != nil {
		return nil, fmt.Errorf("%w: jwk kty", ErrKey)
	}
	switch {
	case alg == AlgES256 && kty == "EC":
		return parseECKey(m)
	case alg == AlgRS256 && kty == "RSA":
		return parseRSAKey(m)
	}
	return nil, fmt.Errorf("%w: jwk kty does not match alg", ErrKey)
}

func parseECKey(m map[string]json.RawMessage) (*PublicKey, error) {
	crv, _, err := stringMember(m, "crv", 8)
	if err != nil || crv != "P-256" {
		return nil, fmt.Errorf("%w: curve must be P-256", ErrKey)
	}
	x, err1 := coordinate(m, "x")
	y, err2 := coordinate(m, "y")
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: EC coordinates must be 32 bytes of base64url", ErrKey)
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("%w: point is not on P-256", ErrKey)
	}
	canon := `{"crv":"P-256","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`
	return newKey(AlgES256, canon, pub, nil), nil
}

func coordinate(m map[string]json.RawMessage, name string) ([]byte, error) {
	s, _, err := stringMember(m, name, 64)
	if err != nil {
		return nil, err
	}
	b, err := decodeB64URL(s)
	if err != nil || len(b) != 32 {
		return nil, errJSON
	}
	return b, nil
}

// e65537 is the only RSA public exponent accepted, big-endian.
var e65537 = []byte{1, 0, 1}

func parseRSAKey(m map[string]json.RawMessage) (*PublicKey, error) {
	ns, _, err1 := stringMember(m, "n", maxStringBytes)
	es, _, err2 := stringMember(m, "e", 8)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: RSA n and e must be strings", ErrKey)
	}
	n, err1 := decodeB64URL(ns)
	e, err2 := decodeB64URL(es)
	if err1 != nil || err2 != nil || len(n) == 0 || n[0] == 0 {
		// RFC 7518 6.3.1.1: Base64urlUInt, minimum octets (no leading zero).
		return nil, fmt.Errorf("%w: RSA n and e must be minimal base64url", ErrKey)
	}
	if !bytes.Equal(e, e65537) {
		return nil, fmt.Errorf("%w: RSA exponent must be 65537", ErrKey)
	}
	N := new(big.Int).SetBytes(n)
	if bits := N.BitLen(); bits < MinRSABits || bits > MaxRSABits || N.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA modulus must be odd and of %d to %d bits", ErrKey, MinRSABits, MaxRSABits)
	}
	canon := `{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(n) + `"}`
	return newKey(AlgRS256, canon, nil, &rsa.PublicKey{N: N, E: 65537}), nil
}

func newKey(alg, canon string, ec *ecdsa.PublicKey, r *rsa.PublicKey) *PublicKey {
	sum := sha256.Sum256([]byte(canon))
	return &PublicKey{alg: alg, ec: ec, rsa: r, jwk: []byte(canon), thumb: b64(sum[:])}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

package dbsc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
)

// The test keys are generated once per test binary: real keys, as a browser
// makes them (P-256 and RSA 2048).
var (
	keysOnce sync.Once
	ecKey    *ecdsa.PrivateKey
	ecKey2   *ecdsa.PrivateKey
	rsaKey   *rsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if ecKey2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf returns the public JWK of an *ecdsa.PrivateKey or *rsa.PrivateKey as
// a browser sends it.
func jwkOf(k any) map[string]any {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		pt, err := k.PublicKey.Bytes()
		if err != nil {
			panic(err)
		}
		return map[string]any{"kty": "EC", "crv": "P-256", "x": enc(pt[1:33]), "y": enc(pt[33:])}
	case *rsa.PrivateKey:
		return map[string]any{"kty": "RSA", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	}
	panic("unknown key type")
}

// sign returns the compact JWS of header and payload (JSON-marshalled, or
// used as is when they are strings) signed with k: ES256 as raw r||s,
// RS256 as PKCS #1 v1.5.
func sign(t testing.TB, k any, header, payload any) string {
	t.Helper()
	in := part(t, header) + "." + part(t, payload)
	h := sha256.Sum256([]byte(in))
	var sig []byte
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:]); err != nil {
			t.Fatal(err)
		}
	}
	return in + "." + enc(sig)
}

func part(t testing.TB, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return enc([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return enc(b)
}

// regHeader is the header of a registration proof by k.
func regHeader(alg string, k any) map[string]any {
	return map[string]any{"alg": alg, "typ": "dbsc+jwt", "jwk": jwkOf(k)}
}

func sha256Sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

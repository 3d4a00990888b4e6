package dbsc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// TestVerifyRegistration: issue 16 "verifies registration proofs (ES256 and
// RS256; refuses alg none, a missing or extra jwk, a wrong typ ...)", and
// the brief's strictness rules. Every case is a real signature by a real
// key unless the case is about the signature.
func TestVerifyRegistration(t *testing.T) {
	testKeys(t)
	pay := map[string]any{"jti": "chal-1"}
	cases := []struct {
		name    string
		token   func(t *testing.T) string
		auth    string
		wantErr error
	}{
		{"ES256 as Chromium 156 sends it", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), pay)
		}, "", nil},
		{"RS256 2048", func(t *testing.T) string {
			return sign(t, rsaKey, regHeader("RS256", rsaKey), pay)
		}, "", nil},
		{"authorization offered and copied", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "chal-1", "authorization": "ac"})
		}, "ac", nil},
		{"unknown claims and header members ignored", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			h["kid"] = "x"
			return sign(t, ecKey, h, map[string]any{"jti": "chal-1", "extra": 1})
		}, "", nil},
		// issue 16: refuses alg none.
		{"alg none, no signature", func(t *testing.T) string {
			return part(t, map[string]any{"alg": "none", "typ": "dbsc+jwt"}) + "." + part(t, pay) + "."
		}, "", ErrAlgorithm},
		{"alg none with a jwk", func(t *testing.T) string {
			return part(t, map[string]any{"alg": "none", "typ": "dbsc+jwt", "jwk": jwkOf(ecKey)}) + "." + part(t, pay) + "."
		}, "", ErrAlgorithm},
		{"alg HS256", func(t *testing.T) string { return sign(t, ecKey, regHeader("HS256", ecKey), pay) }, "", ErrAlgorithm},
		{"alg ES384", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES384", ecKey), pay) }, "", ErrAlgorithm},
		{"alg PS256", func(t *testing.T) string { return sign(t, rsaKey, regHeader("PS256", rsaKey), pay) }, "", ErrAlgorithm},
		{"alg lowercase", func(t *testing.T) string { return sign(t, ecKey, regHeader("es256", ecKey), pay) }, "", ErrAlgorithm},
		{"alg missing", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"typ": "dbsc+jwt", "jwk": jwkOf(ecKey)}, pay)
		}, "", ErrAlgorithm},
		{"alg not a string", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": 1, "typ": "dbsc+jwt", "jwk": jwkOf(ecKey)}, pay)
		}, "", ErrAlgorithm},
		// issue 16: refuses a wrong typ (and the older Chrome form, typ "jwt").
		{"typ jwt (older Chrome form)", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": "ES256", "typ": "jwt"},
				map[string]any{"aud": "https://x/r", "jti": "chal-1", "iat": 1, "key": jwkOf(ecKey)})
		}, "", ErrType},
		{"typ missing", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": "ES256", "jwk": jwkOf(ecKey)}, pay)
		}, "", ErrType},
		{"typ JWT", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": "ES256", "typ": "DBSC+JWT", "jwk": jwkOf(ecKey)}, pay)
		}, "", ErrType},
		{"crit present", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			h["crit"] = []string{"exp"}
			return sign(t, ecKey, h, pay)
		}, "", ErrType},
		// issue 16: refuses a missing jwk.
		{"jwk missing", func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}, pay)
		}, "", ErrKey},
		{"jwk EC for RS256", func(t *testing.T) string { return sign(t, rsaKey, regHeader("RS256", ecKey), pay) }, "", ErrKey},
		{"jwk RSA for ES256", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", rsaKey), pay) }, "", ErrKey},
		{"jwk with private d", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			h["jwk"].(map[string]any)["d"] = enc(ecKey.D.Bytes())
			return sign(t, ecKey, h, pay)
		}, "", ErrKey},
		{"jwk P-384", func(t *testing.T) string {
			k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			pt, _ := k.PublicKey.Bytes()
			h := map[string]any{"alg": "ES256", "typ": "dbsc+jwt", "jwk": map[string]any{"kty": "EC", "crv": "P-384", "x": enc(pt[1:49]), "y": enc(pt[49:])}}
			return sign(t, ecKey, h, pay)
		}, "", ErrKey},
		{"jwk point off the curve", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			j := h["jwk"].(map[string]any)
			pt, _ := ecKey.PublicKey.Bytes()
			y := append([]byte(nil), pt[33:]...)
			y[31] ^= 1
			j["y"] = enc(y)
			return sign(t, ecKey, h, pay)
		}, "", ErrKey},
		{"jwk x of 31 bytes", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			pt, _ := ecKey.PublicKey.Bytes()
			h["jwk"].(map[string]any)["x"] = enc(pt[2:33])
			return sign(t, ecKey, h, pay)
		}, "", ErrKey},
		{"jwk alg differs", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			h["jwk"].(map[string]any)["alg"] = "RS256"
			return sign(t, ecKey, h, pay)
		}, "", ErrKey},
		{"RSA 1024", func(t *testing.T) string {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Skip("RSA 1024 generation refused:", err)
			}
			return sign(t, k, regHeader("RS256", k), pay)
		}, "", ErrKey},
		{"RSA exponent 3", func(t *testing.T) string {
			h := regHeader("RS256", rsaKey)
			h["jwk"].(map[string]any)["e"] = enc([]byte{3})
			return sign(t, rsaKey, h, pay)
		}, "", ErrKey},
		{"RSA n with a leading zero", func(t *testing.T) string {
			h := regHeader("RS256", rsaKey)
			h["jwk"].(map[string]any)["n"] = enc(append([]byte{0}, rsaKey.N.Bytes()...))
			return sign(t, rsaKey, h, pay)
		}, "", ErrKey},
		// The signature.
		{"signed by another key than the jwk", func(t *testing.T) string {
			return sign(t, ecKey2, regHeader("ES256", ecKey), pay)
		}, "", ErrSignature},
		{"ES256 signature in ASN.1 DER", func(t *testing.T) string {
			tok := sign(t, ecKey, regHeader("ES256", ecKey), pay)
			in := tok[:strings.LastIndexByte(tok, '.')]
			h := sha256Sum(in)
			der, err := ecdsa.SignASN1(rand.Reader, ecKey, h)
			if err != nil {
				t.Fatal(err)
			}
			return in + "." + enc(der)
		}, "", ErrSignature},
		{"payload changed after signing", func(t *testing.T) string {
			tok := sign(t, ecKey, regHeader("ES256", ecKey), pay)
			p := strings.Split(tok, ".")
			return p[0] + "." + part(t, map[string]any{"jti": "chal-2"}) + "." + p[2]
		}, "", ErrSignature},
		{"RS256 signature truncated", func(t *testing.T) string {
			tok := sign(t, rsaKey, regHeader("RS256", rsaKey), pay)
			i := strings.LastIndexByte(tok, '.')
			sig, _ := decodeB64URL(tok[i+1:])
			return tok[:i+1] + enc(sig[:len(sig)-1])
		}, "", ErrSignature},
		// The compact serialization and JSON.
		{"oversize", func(t *testing.T) string {
			h := regHeader("ES256", ecKey)
			h["pad"] = strings.Repeat("a", MaxProofBytes)
			return sign(t, ecKey, h, pay)
		}, "", ErrProof},
		{"two parts", func(t *testing.T) string { return part(t, regHeader("ES256", ecKey)) + "." + part(t, pay) }, "", ErrProof},
		{"four parts", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), pay) + ".x" }, "", ErrProof},
		{"padded base64", func(t *testing.T) string {
			tok := sign(t, ecKey, regHeader("ES256", ecKey), pay)
			p := strings.Split(tok, ".")
			return p[0] + "." + p[1] + "." + p[2] + "=="
		}, "", ErrProof},
		{"newline inside base64 (encoding/base64 would skip it)", func(t *testing.T) string {
			tok := sign(t, ecKey, regHeader("ES256", ecKey), pay)
			return tok[:10] + "\n" + tok[10:]
		}, "", ErrProof},
		{"standard base64 alphabet", func(t *testing.T) string {
			return "+" + sign(t, ecKey, regHeader("ES256", ecKey), pay)[1:]
		}, "", ErrProof},
		{"duplicate alg in header", func(t *testing.T) string {
			j, _ := json.Marshal(jwkOf(ecKey))
			return sign(t, ecKey, `{"alg":"none","alg":"ES256","typ":"dbsc+jwt","jwk":`+string(j)+`}`, pay)
		}, "", ErrProof},
		{"case-variant typ in header", func(t *testing.T) string {
			j, _ := json.Marshal(jwkOf(ecKey))
			return sign(t, ecKey, `{"alg":"ES256","typ":"dbsc+jwt","TYP":"jwt","jwk":`+string(j)+`}`, pay)
		}, "", ErrProof},
		{"duplicate x inside jwk", func(t *testing.T) string {
			j := jwkOf(ecKey)
			return sign(t, ecKey, `{"alg":"ES256","typ":"dbsc+jwt","jwk":{"kty":"EC","crv":"P-256","x":"`+j["x"].(string)+`","x":"`+j["x"].(string)+`","y":"`+j["y"].(string)+`"}}`, pay)
		}, "", ErrProof}, // the header's strict parse sees nested objects too
		{"duplicate jti in payload", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), `{"jti":"other","jti":"chal-1"}`)
		}, "", ErrProof},
		{"trailing data after the header object", func(t *testing.T) string {
			j, _ := json.Marshal(regHeader("ES256", ecKey))
			return sign(t, ecKey, string(j)+` {}`, pay)
		}, "", ErrProof},
		{"invalid UTF-8 in payload", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), "{\"jti\":\"chal-1\",\"x\":\"\xff\"}")
		}, "", ErrProof},
		{"payload is an array", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), `["chal-1"]`) }, "", ErrProof},
		// Claims.
		{"jti missing", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{}) }, "", ErrClaims},
		{"jti empty", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": ""}) }, "", ErrClaims},
		{"jti a number", func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": 7}) }, "", ErrClaims},
		{"jti null", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": nil})
		}, "", ErrClaims},
		{"authorization offered, missing", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), pay)
		}, "ac", ErrAuthorization},
		{"authorization offered, different", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "chal-1", "authorization": "ad"})
		}, "ac", ErrAuthorization},
		{"authorization not offered, present and empty", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "chal-1", "authorization": ""})
		}, "", ErrAuthorization},
		{"authorization not offered, present", func(t *testing.T) string {
			return sign(t, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "chal-1", "authorization": "ac"})
		}, "", ErrAuthorization},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := VerifyRegistration(tc.token(t), tc.auth)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if p != nil {
					t.Fatalf("got a proof with error %v, want none", err)
				}
				return
			}
			if p.Challenge != "chal-1" || p.Key == nil || p.Key.Thumbprint() == "" {
				t.Fatalf("got proof %+v, want jti chal-1 and a key", p)
			}
		})
	}
}

// TestVerifyRefresh: issue 16 "a refresh proof must verify against the
// registered key (no jwk in its header)", "refuses ... a key that is not the
// registered one".
func TestVerifyRefresh(t *testing.T) {
	testKeys(t)
	register := func(t *testing.T, k any, alg string) *PublicKey {
		p, err := VerifyRegistration(sign(t, k, regHeader(alg, k), map[string]any{"jti": "c0"}), "")
		if err != nil {
			t.Fatal(err)
		}
		return p.Key
	}
	ecReg := register(t, ecKey, "ES256")
	rsaReg := register(t, rsaKey, "RS256")
	refreshHeader := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "dbsc+jwt"} }
	pay := map[string]any{"jti": "chal-2"}
	cases := []struct {
		name       string
		registered *PublicKey
		token      func(t *testing.T) string
		wantErr    error
	}{
		{"ES256 as Chromium 156 sends it", ecReg, func(t *testing.T) string { return sign(t, ecKey, refreshHeader("ES256"), pay) }, nil},
		{"RS256", rsaReg, func(t *testing.T) string { return sign(t, rsaKey, refreshHeader("RS256"), pay) }, nil},
		{"authorization claim ignored", ecReg, func(t *testing.T) string {
			return sign(t, ecKey, refreshHeader("ES256"), map[string]any{"jti": "chal-2", "authorization": "x"})
		}, nil},
		{"another P-256 key (the thief's)", ecReg, func(t *testing.T) string { return sign(t, ecKey2, refreshHeader("ES256"), pay) }, ErrSignature},
		{"jwk of the registered key", ecReg, func(t *testing.T) string { return sign(t, ecKey, regHeader("ES256", ecKey), pay) }, ErrKey},
		{"jwk of a new key", ecReg, func(t *testing.T) string { return sign(t, ecKey2, regHeader("ES256", ecKey2), pay) }, ErrKey},
		{"RS256 proof for an ES256 key", ecReg, func(t *testing.T) string { return sign(t, rsaKey, refreshHeader("RS256"), pay) }, ErrAlgorithm},
		{"ES256 proof for an RS256 key", rsaReg, func(t *testing.T) string { return sign(t, ecKey, refreshHeader("ES256"), pay) }, ErrAlgorithm},
		{"alg none", ecReg, func(t *testing.T) string { return part(t, refreshHeader("none")) + "." + part(t, pay) + "." }, ErrAlgorithm},
		{"no registered key", nil, func(t *testing.T) string { return sign(t, ecKey, refreshHeader("ES256"), pay) }, ErrKey},
		{"wrong typ", ecReg, func(t *testing.T) string {
			return sign(t, ecKey, map[string]any{"alg": "ES256", "typ": "jwt"}, pay)
		}, ErrType},
		{"no jti", ecReg, func(t *testing.T) string { return sign(t, ecKey, refreshHeader("ES256"), map[string]any{}) }, ErrClaims},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := VerifyRefresh(tc.token(t), tc.registered)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (p.Challenge != "chal-2" || !p.Key.Equal(tc.registered)) {
				t.Fatalf("got proof %+v, want jti chal-2 and the registered key", p)
			}
		})
	}
}

// The stored key round-trips, keeps its thumbprint, and still verifies.
func TestPublicKeyStorage(t *testing.T) {
	testKeys(t)
	for _, k := range []struct {
		alg  string
		priv any
	}{{"ES256", ecKey}, {"RS256", rsaKey}} {
		t.Run(k.alg, func(t *testing.T) {
			p, err := VerifyRegistration(sign(t, k.priv, regHeader(k.alg, k.priv), map[string]any{"jti": "c"}), "")
			if err != nil {
				t.Fatal(err)
			}
			stored, err := json.Marshal(p.Key)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePublicKey(stored)
			if err != nil {
				t.Fatalf("ParsePublicKey(%s): %v", stored, err)
			}
			if !back.Equal(p.Key) || back.Thumbprint() != p.Key.Thumbprint() {
				t.Fatalf("got thumbprint %s, want %s", back.Thumbprint(), p.Key.Thumbprint())
			}
			if _, err := VerifyRefresh(sign(t, k.priv, map[string]any{"alg": k.alg, "typ": "dbsc+jwt"}, map[string]any{"jti": "c2"}), back); err != nil {
				t.Fatalf("refresh with the stored key: %v", err)
			}
		})
	}
	for _, bad := range []string{`{}`, `{"alg":"none","jwk":{}}`, `{"alg":"ES256"}`, `{"alg":"ES256","jwk":{"kty":"EC"}}`, `{"alg":"ES256","jwk":{},"x":1}`} {
		if _, err := ParsePublicKey([]byte(bad)); !errors.Is(err, ErrKey) {
			t.Errorf("ParsePublicKey(%s): got %v, want ErrKey", bad, err)
		}
	}
}

// TestThumbprintRFC7638 checks the thumbprint against the example of RFC
// 7638 section 3.1 (an RSA key; the expected value is printed there).
func TestThumbprintRFC7638(t *testing.T) {
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	// The modulus of the RFC example is 2048 bits, exponent 65537.
	nb, err := decodeB64URL(n)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(map[string]any{"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})
	k, err := parseJWK("RS256", jwk)
	if err != nil {
		t.Fatalf("parseJWK: %v (modulus %d bits)", err, new(big.Int).SetBytes(nb).BitLen())
	}
	if got := k.Thumbprint(); got != want {
		t.Fatalf("got thumbprint %s, want %s", got, want)
	}
}

// The draft's own Secure-Session-Response example (section 9.3) carries the
// key in the payload (with aud and a string iat), like the older Chrome
// form, while its normative text (section 9.10) puts jwk in the header. A
// registration proof without a header jwk is refused before its signature
// is looked at.
func TestDraftExampleRefused(t *testing.T) {
	const example = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRic2Mrand0In0.eyJhdWQiOiJodHRwczovL2V4YW1wbGUuY29tL3JlZyIsImp0aSI6ImN2IiwiaWF0IjoiMTcyNTU3OTA1NSIsImp3ayI6eyJrdHkiOiJFQyIsImNydiI6IlAtMjU2IiwieCI6IjZfR0Iydm9RMHFyb01oNk9sREZDRlNfU0pyaVFpMVBUdnZCT2hHWjNiSEkiLCJ5IjoiSWVnT0pVTHlFN1N4SF9DZDFLQ0VSN2xXQnZHRkhRLWgweHlqelVqRUlXRSJ9LCJhdXRob3JpemF0aW9uIjoiYWMifQ.6Fb_vVBDmfNghQiBmIGe8o7tBfYPbPCywhQruP0vIhxgmcJmuNTaMHeVn_M8ZnOm1_bzIitbZqCWEn-1Qzmtyw"
	h := http.Header{HeaderResponse: {`"` + example + `"`}}
	tok, err := ProofJWT(h)
	if err != nil || tok != example {
		t.Fatalf("ProofJWT: got %v; want the JWT", err)
	}
	if _, err := VerifyRegistration(tok, "ac"); !errors.Is(err, ErrKey) {
		t.Fatalf("got %v, want ErrKey (no jwk in the header)", err)
	}
}

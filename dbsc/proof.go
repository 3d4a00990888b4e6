package dbsc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ProofType is the typ every DBSC proof header must carry.
const ProofType = "dbsc+jwt"

// Errors of proof verification. Each wraps detail that never quotes the
// proof; test with errors.Is.
var (
	// ErrProof: not a compact JWS of three strict base64url parts holding
	// strict JSON objects, or longer than [MaxProofBytes].
	ErrProof = errors.New("dbsc: malformed proof")
	// ErrAlgorithm: alg is not ES256 or RS256 ("none" included), or a
	// refresh proof's alg is not the registered key's.
	ErrAlgorithm = errors.New("dbsc: proof algorithm refused")
	// ErrType: typ is not "dbsc+jwt", or the header has a crit member.
	ErrType = errors.New("dbsc: proof type refused")
	// ErrSignature: the signature does not verify with the key.
	ErrSignature = errors.New("dbsc: proof signature invalid")
	// ErrClaims: jti is missing, empty, not a string or too long.
	ErrClaims = errors.New("dbsc: proof claims invalid")
	// ErrAuthorization: the authorization claim differs from the one
	// offered, is missing although one was offered, or is present although
	// none was.
	ErrAuthorization = errors.New("dbsc: proof authorization mismatch")
)

// Proof is a verified DBSC proof.
type Proof struct {
	// Key is the key the proof verified with: the jwk of a registration
	// proof, the registered key of a refresh proof.
	Key *PublicKey
	// Challenge is the jti claim. The caller must still consume it
	// ([Challenges.Consume]): verification proves possession of the key,
	// not freshness.
	Challenge string
}

// VerifyRegistration verifies the Secure-Session-Response JWT of a
// registration request (from [ProofJWT]). authorization is the value the
// offer carried, or "" when it carried none. It checks, and refuses with the
// error named:
//
//   - at most [MaxProofBytes], three base64url parts with no padding, no
//     other bytes and no non-zero trailing bits, each of header and payload
//     one JSON object with no repeated (or case-variant) key, valid UTF-8,
//     nothing after it ([ErrProof]);
//   - header alg "ES256" or "RS256", nothing else, "none" included
//     ([ErrAlgorithm]); typ exactly "dbsc+jwt" and no crit ([ErrType]);
//   - a jwk member, public (no private members), EC P-256 for ES256 or RSA
//     of 2048 to 4096 bits with exponent 65537 for RS256 ([ErrKey]);
//   - the signature, with that key: raw r||s of 64 bytes for ES256,
//     PKCS #1 v1.5 SHA-256 for RS256 ([ErrSignature]);
//   - payload jti a non-empty string of at most 1 KiB ([ErrClaims]);
//   - payload authorization equal to authorization, compared in constant
//     time, present exactly when one was offered ([ErrAuthorization]).
//
// Other header members and claims are ignored. The older form of Chrome's
// origin trials (typ "jwt", the key in a "key" claim, aud and iat claims) is
// refused by the typ check; see the package documentation for why.
func VerifyRegistration(token, authorization string) (*Proof, error) {
	p, err := parseProof(token)
	if err != nil {
		return nil, err
	}
	raw, ok := p.header["jwk"]
	if !ok {
		return nil, fmt.Errorf("%w: a registration proof must carry its jwk", ErrKey)
	}
	key, err := parseJWK(p.alg, raw)
	if err != nil {
		return nil, err
	}
	jti, err := p.verify(key)
	if err != nil {
		return nil, err
	}
	got, present, err := stringMember(p.payload, "authorization", maxClaimBytes)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: authorization is not a string", ErrAuthorization)
	case present != (authorization != ""),
		subtle.ConstantTimeCompare([]byte(got), []byte(authorization)) != 1:
		return nil, ErrAuthorization
	}
	return &Proof{Key: key, Challenge: jti}, nil
}

// VerifyRefresh verifies the Secure-Session-Response JWT of a refresh
// request against the key registered for the session. The checks are those
// of [VerifyRegistration], except that the header must not carry a jwk (a
// refresh proves possession of the registered key; it cannot bring a new
// one) ([ErrKey]), alg must be the registered key's ([ErrAlgorithm]), and
// an authorization claim is ignored (Chromium sends none on refresh).
// A proof signed by any other key fails with [ErrSignature].
func VerifyRefresh(token string, registered *PublicKey) (*Proof, error) {
	if registered == nil {
		return nil, fmt.Errorf("%w: no registered key", ErrKey)
	}
	p, err := parseProof(token)
	if err != nil {
		return nil, err
	}
	if _, ok := p.header["jwk"]; ok {
		return nil, fmt.Errorf("%w: a refresh proof must not carry a jwk", ErrKey)
	}
	if p.alg != registered.alg {
		return nil, fmt.Errorf("%w: alg is not the registered key's", ErrAlgorithm)
	}
	jti, err := p.verify(registered)
	if err != nil {
		return nil, err
	}
	return &Proof{Key: registered, Challenge: jti}, nil
}

// parsedProof is a compact JWS whose header passed the alg and typ checks
// but whose signature is not verified yet.
type parsedProof struct {
	alg          string
	header       map[string]json.RawMessage
	payloadB64   string
	payload      map[string]json.RawMessage
	signingInput string
	sig          []byte
}

func parseProof(token string) (*parsedProof, error) {
	if len(token) > MaxProofBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrProof, MaxProofBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrProof)
	}
	hb, err := decodeB64URL(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header is not strict base64url", ErrProof)
	}
	header, err := parseObject(hb)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrProof, err)
	}
	alg, _, err := stringMember(header, "alg", 16)
	if err != nil || (alg != AlgES256 && alg != AlgRS256) {
		return nil, ErrAlgorithm
	}
	typ, _, err := stringMember(header, "typ", 16)
	if err != nil || typ != ProofType {
		return nil, ErrType
	}
	if _, ok := header["crit"]; ok {
		// RFC 7515 4.1.11: extensions we do not understand must be refused.
		return nil, fmt.Errorf("%w: crit", ErrType)
	}
	if parts[2] == "" {
		return nil, fmt.Errorf("%w: no signature", ErrSignature)
	}
	sig, err := decodeB64URL(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not strict base64url", ErrProof)
	}
	return &parsedProof{
		alg:          alg,
		header:       header,
		payloadB64:   parts[1],
		signingInput: token[:len(parts[0])+1+len(parts[1])],
		sig:          sig,
	}, nil
}

// verify checks the signature with key, then reads the payload and returns
// its jti. The payload is parsed only once the signature holds.
func (p *parsedProof) verify(key *PublicKey) (string, error) {
	if !verifySignature(key, p.signingInput, p.sig) {
		return "", ErrSignature
	}
	pb, err := decodeB64URL(p.payloadB64)
	if err != nil {
		return "", fmt.Errorf("%w: payload is not strict base64url", ErrProof)
	}
	if p.payload, err = parseObject(pb); err != nil {
		return "", fmt.Errorf("%w: payload: %v", ErrProof, err)
	}
	jti, _, err := stringMember(p.payload, "jti", maxClaimBytes)
	if err != nil || jti == "" {
		return "", fmt.Errorf("%w: jti", ErrClaims)
	}
	return jti, nil
}

func verifySignature(key *PublicKey, signingInput string, sig []byte) bool {
	h := sha256.Sum256([]byte(signingInput))
	switch key.alg {
	case AlgES256:
		if len(sig) != 64 || key.ec == nil {
			return false // JWS ES256 is raw r||s, never ASN.1 DER (RFC 7518 3.4)
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(key.ec, h[:], r, s)
	case AlgRS256:
		return key.rsa != nil && rsa.VerifyPKCS1v15(key.rsa, crypto.SHA256, h[:], sig) == nil
	}
	return false
}

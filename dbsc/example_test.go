package dbsc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tetherhq/tether/dbsc"
)

// browserProof signs a DBSC proof as Chromium does: ES256, raw r||s.
func browserProof(k *ecdsa.PrivateKey, withJWK bool, jti string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	h := map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}
	if withJWK {
		pt, _ := k.PublicKey.Bytes()
		h["jwk"] = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	}
	hj, _ := json.Marshal(h)
	pj, _ := json.Marshal(map[string]string{"jti": jti})
	in := b64(hj) + "." + b64(pj)
	sum := sha256.Sum256([]byte(in))
	r, s, _ := ecdsa.Sign(rand.Reader, k, sum[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + b64(sig)
}

// The whole exchange, server side, with a Go client in the browser's place.
func Example() {
	ctx := context.Background()
	ch := &dbsc.Challenges{Store: &dbsc.MemoryChallenges{}} // the wiring keeps these with the session

	// 1. The login response offers registration.
	c1, _ := ch.Issue(ctx)
	offer, _ := dbsc.Offer{Path: "/dbsc/register", Challenge: c1}.HeaderValue()
	fmt.Println("offer is a list:", offer[:13])

	// 2. The browser registers; the server verifies and stores the key.
	browserKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req := http.Header{dbsc.HeaderResponse: {browserProof(browserKey, true, c1)}}
	jwt, _ := dbsc.ProofJWT(req)
	proof, err := dbsc.VerifyRegistration(jwt, "")
	fmt.Println("registration verified:", err == nil, "challenge used:", ch.Consume(ctx, proof.Challenge) == nil)
	stored, _ := json.Marshal(proof.Key)
	id, _ := dbsc.NewSessionIdentifier()
	answer, _ := dbsc.Instructions{
		SessionIdentifier: id, RefreshURL: "/dbsc/refresh",
		Credentials: []dbsc.Credential{{Name: "__Host-bound", Attributes: "Path=/; Secure; HttpOnly; SameSite=Lax"}},
	}.Marshal()
	fmt.Println("answer is JSON:", json.Valid(answer))

	// 3. Refresh: 403 with a challenge, then a proof by the registered key.
	c2, _ := ch.Issue(ctx)
	_, _ = dbsc.ChallengeHeaderValue(c2, id)
	registered, _ := dbsc.ParsePublicKey(stored)
	refresh := http.Header{dbsc.HeaderSessionID: {id}, dbsc.HeaderResponse: {browserProof(browserKey, false, c2)}}
	gotID, _ := dbsc.SessionID(refresh)
	jwt, _ = dbsc.ProofJWT(refresh)
	rp, err := dbsc.VerifyRefresh(jwt, registered)
	fmt.Println("refresh verified:", gotID == id && err == nil, "challenge used:", ch.Consume(ctx, rp.Challenge) == nil)

	// A replayed refresh proof finds its challenge used.
	fmt.Println("replay:", ch.Consume(ctx, rp.Challenge))

	// A thief's key does not verify against the registered one.
	thief, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err = dbsc.VerifyRefresh(browserProof(thief, false, c2), registered)
	fmt.Println("thief:", err)
	// Output:
	// offer is a list: (ES256 RS256)
	// registration verified: true challenge used: true
	// answer is JSON: true
	// refresh verified: true challenge used: true
	// replay: dbsc: unknown, used or expired challenge
	// thief: dbsc: proof signature invalid
}

package dbsc

import "testing"

// Verification cost per proof, ES256 against RS256, registration (JWK
// parse included) and refresh (stored key). Compare ratios run side by side
// (go test -bench Verify -count 6 | benchstat), not absolute times.
func BenchmarkVerify(b *testing.B) {
	testKeys(b)
	pay := map[string]any{"jti": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	for _, k := range []struct {
		alg  string
		priv any
	}{{"ES256", ecKey}, {"RS256", rsaKey}} {
		reg := sign(b, k.priv, regHeader(k.alg, k.priv), pay)
		p, err := VerifyRegistration(reg, "")
		if err != nil {
			b.Fatal(err)
		}
		ref := sign(b, k.priv, map[string]any{"alg": k.alg, "typ": "dbsc+jwt"}, pay)
		b.Run("registration/"+k.alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := VerifyRegistration(reg, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("refresh/"+k.alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := VerifyRefresh(ref, p.Key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package dbsc

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The parsers below read what any client sends: they must never panic, and
// what they accept must satisfy the rules they promise.

func FuzzVerifyRegistration(f *testing.F) {
	testKeys(f)
	f.Add(sign(f, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "c"}), "")
	f.Add(sign(f, rsaKey, regHeader("RS256", rsaKey), map[string]any{"jti": "c", "authorization": "a"}), "a")
	f.Add(part(f, map[string]any{"alg": "none", "typ": "dbsc+jwt"})+"."+part(f, map[string]any{"jti": "c"})+".", "")
	f.Add("a.b.c", "")
	f.Fuzz(func(t *testing.T, token, auth string) {
		p, err := VerifyRegistration(token, auth)
		if err != nil {
			if p != nil {
				t.Fatal("a proof returned with an error")
			}
			return
		}
		if len(token) > MaxProofBytes || p.Challenge == "" || p.Key == nil {
			t.Fatalf("accepted %q: proof %+v", token, p)
		}
		// Whatever was accepted verifies the same way with the stored key,
		// as a refresh would, once the jwk is out of the header.
		stored, _ := json.Marshal(p.Key)
		if k, err := ParsePublicKey(stored); err != nil || !k.Equal(p.Key) {
			t.Fatalf("stored key %s does not parse back: %v", stored, err)
		}
	})
}

func FuzzVerifyRefresh(f *testing.F) {
	testKeys(f)
	reg, err := VerifyRegistration(sign(f, ecKey, regHeader("ES256", ecKey), map[string]any{"jti": "c"}), "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sign(f, ecKey, map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}, map[string]any{"jti": "c2"}))
	f.Add(sign(f, ecKey2, map[string]any{"alg": "ES256", "typ": "dbsc+jwt"}, map[string]any{"jti": "c2"}))
	f.Fuzz(func(t *testing.T, token string) {
		p, err := VerifyRefresh(token, reg.Key)
		if err == nil && (p.Challenge == "" || !p.Key.Equal(reg.Key)) {
			t.Fatalf("accepted %q: proof %+v", token, p)
		}
	})
}

func FuzzSessionID(f *testing.F) {
	for _, s := range []string{`"s1"`, "s1", `"a\"b";x=1`, `"s1";a=:aGk=:;b=-1.5;c=?1`, `("s1")`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id, err := SessionID(http.Header{HeaderSessionID: {v}})
		if err != nil {
			return
		}
		if id == "" || len(v) > MaxSessionIDHeader {
			t.Fatalf("accepted %q as %q", v, id)
		}
		// The value read is one a server could have sent: it serializes
		// as an sf-string that parses back to itself.
		b, err := appendSFString(nil, id)
		if err != nil {
			t.Fatalf("accepted %q as %q, which is no sf-string", v, id)
		}
		if back, err := parseItemStringOrToken(string(b)); err != nil || back != id {
			t.Fatalf("round trip of %q: got %q, %v", id, back, err)
		}
		if !strings.HasPrefix(strings.TrimLeft(v, " "), `"`) && !isToken(id) {
			t.Fatalf("bare %q accepted as %q, not a token", v, id)
		}
	})
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"A":2}`, `{"a":{"b":[1,{"c":2}]}}`, `{} {}`, `{"a":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseObject(raw)
		if err != nil {
			return
		}
		// Accepted: encoding/json reads the same keys, none twice.
		var check map[string]json.RawMessage
		if err := json.Unmarshal(raw, &check); err != nil || len(check) != len(m) {
			t.Fatalf("accepted %q, encoding/json: %v", raw, err)
		}
		for k := range m {
			for k2 := range m {
				if k != k2 && strings.EqualFold(k, k2) {
					t.Fatalf("accepted case variants %q and %q", k, k2)
				}
			}
		}
	})
}

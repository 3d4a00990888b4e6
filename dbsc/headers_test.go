package dbsc

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestOfferHeaderValue(t *testing.T) {
	cases := []struct {
		name    string
		offer   Offer
		want    string
		wantErr bool
	}{
		{"issue 16 form", Offer{Path: "/dbsc/register", Challenge: "chal-1"},
			`(ES256 RS256);path="/dbsc/register";challenge="chal-1"`, false},
		{"with authorization", Offer{Path: "/r", Challenge: "c", Authorization: "a b"},
			`(ES256 RS256);path="/r";challenge="c";authorization="a b"`, false},
		{"quote and backslash escaped", Offer{Path: `/a"b\c`, Challenge: "c"},
			`(ES256 RS256);path="/a\"b\\c";challenge="c"`, false},
		{"no path", Offer{Challenge: "c"}, "", true},
		{"no challenge", Offer{Path: "/r"}, "", true},
		{"newline in path (header injection)", Offer{Path: "/r\r\nSet-Cookie: x=1", Challenge: "c"}, "", true},
		{"non-ASCII challenge", Offer{Path: "/r", Challenge: "é"}, "", true},
		{"control byte in authorization", Offer{Path: "/r", Challenge: "c", Authorization: "a\x00"}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.offer.HeaderValue()
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestChallengeHeaderValue(t *testing.T) {
	got, err := ChallengeHeaderValue("chal-2", "s1")
	if want := `"chal-2";id="s1"`; err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	for _, bad := range [][2]string{{"", "s1"}, {"c", ""}, {"c\n", "s1"}, {"c", "s\x7f"}} {
		if got, err := ChallengeHeaderValue(bad[0], bad[1]); err == nil {
			t.Errorf("ChallengeHeaderValue(%q, %q) = %q; want an error", bad[0], bad[1], got)
		}
	}
}

// TestSessionID covers Sec-Secure-Session-Id parsing (issue 16, refresh):
// the draft's sf-string, Chromium's bare form, and every refusal.
func TestSessionID(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"draft sf-string", []string{`"session-id"`}, "session-id", nil},
		{"Chromium bare token", []string{"s1"}, "s1", nil},
		{"identifier from NewSessionIdentifier", []string{"dAbc-_09xyzXYZabcdefghi"}, "dAbc-_09xyzXYZabcdefghi", nil},
		{"surrounding spaces", []string{`  "s1"  `}, "s1", nil},
		{"parameters ignored", []string{`"s1";a=1;b="x";c=?0;d=:aGk=:;e=tok;f=1.5;g`}, "s1", nil},
		{"escaped quote", []string{`"a\"b"`}, `a"b`, nil},
		{"missing", nil, "", ErrNoHeader},
		{"two field lines", []string{"s1", "s2"}, "", ErrHeader},
		{"a list of two", []string{`"s1", "s2"`}, "", ErrHeader},
		{"empty string", []string{`""`}, "", ErrHeader},
		{"empty value", []string{""}, "", ErrHeader},
		{"unterminated string", []string{`"s1`}, "", ErrHeader},
		{"bad escape", []string{`"a\b"`}, "", ErrHeader},
		{"control byte in string", []string{"\"a\tb\""}, "", ErrHeader},
		{"non-ASCII in string", []string{"\"é\""}, "", ErrHeader},
		{"bare value starting with a digit", []string{"1abc"}, "", ErrHeader},
		{"bare value with a space", []string{"a b"}, "", ErrHeader},
		{"integer", []string{"42"}, "", ErrHeader},
		{"byte sequence", []string{":aGk=:"}, "", ErrHeader},
		{"inner list", []string{`("s1")`}, "", ErrHeader},
		{"uppercase parameter key", []string{`"s1";A=1`}, "", ErrHeader},
		{"parameter without key", []string{`"s1";=1`}, "", ErrHeader},
		{"bad parameter value", []string{`"s1";a=@`}, "", ErrHeader},
		{"integer of 16 digits", []string{`"s1";a=1234567890123456`}, "", ErrHeader},
		{"decimal without fraction", []string{`"s1";a=1.`}, "", ErrHeader},
		{"trailing garbage", []string{`"s1"x`}, "", ErrHeader},
		{"over the size limit", []string{`"` + strings.Repeat("a", MaxSessionIDHeader) + `"`}, "", ErrHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add(HeaderSessionID, v)
			}
			got, err := SessionID(h)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestProofJWT(t *testing.T) {
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJjIn0.c2ln"
	cases := []struct {
		name    string
		value   string
		want    string
		wantErr error
	}{
		{"Chromium bare", jwt, jwt, nil},
		{"draft sf-string", `"` + jwt + `"`, jwt, nil},
		{"oversize", `"` + strings.Repeat("a", MaxProofBytes) + `"`, "", ErrHeader},
		{"two items", jwt + ", " + jwt, "", ErrHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{HeaderResponse: {tc.value}}
			got, err := ProofJWT(h)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// An offer we emit parses back, in the parts a browser reads, with our own
// item parser: path and challenge survive escaping.
func TestChallengeHeaderRoundTrip(t *testing.T) {
	for _, c := range []string{"plain", `q"uote`, `back\slash`, "sp ace"} {
		v, err := ChallengeHeaderValue(c, "s1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseItemStringOrToken(v)
		if err != nil || got != c {
			t.Errorf("parse(%q) = %q, %v; want %q", v, got, err, c)
		}
	}
}

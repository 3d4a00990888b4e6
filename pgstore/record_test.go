package pgstore

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestHasNUL(t *testing.T) {
	cases := []struct {
		json string
		want bool
	}{
		{`{"a":"x"}`, false},
		{`{"a":"\u0000"}`, true},
		{`{"\u0000":1}`, true},
		{`{"a":"\\u0000"}`, false},   // a backslash, then the text u0000
		{`{"a":"\\\u0000"}`, true},   // a backslash, then U+0000
		{`{"a":"\u00001"}`, true},    // U+0000, then 1
		{`{"a":"\u0001"}`, false},    // U+0001 is fine
		{`{"a":"\\\\u0000"}`, false}, // two backslashes, then text
	}
	for _, tc := range cases {
		t.Run(tc.json, func(t *testing.T) {
			if !json.Valid([]byte(tc.json)) {
				t.Fatalf("test case %s is not valid JSON", tc.json)
			}
			if got := hasNUL([]byte(tc.json)); got != tc.want {
				t.Fatalf("hasNUL(%s): got %v, want %v", tc.json, got, tc.want)
			}
		})
	}
}

// Whatever a session value holds (an application may store user input),
// encoding refuses it exactly when it contains U+0000, and otherwise
// encodes it so that it decodes back unchanged.
func FuzzEncodeValues(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", `\u0000`, "\\\x00", "snow ☃ <script>&", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, _ := json.Marshal(s)
		vals := map[string]json.RawMessage{"k": v}
		if s != "k" { // s as a name too; "k" would replace the value under test
			vals[s] = json.RawMessage(`1`)
		}
		enc, err := encodeValues(vals)
		if strings.ContainsRune(s, 0) {
			if !errors.Is(err, errNUL) {
				t.Fatalf("encodeValues of %q: got %v, want errNUL", s, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("encodeValues of %q: got %v, want nil", s, err)
		}
		var want, got string
		_ = json.Unmarshal(v, &want) // s with invalid UTF-8 replaced by U+FFFD
		var back map[string]json.RawMessage
		if err := json.Unmarshal([]byte(enc), &back); err != nil || json.Unmarshal(back["k"], &got) != nil || got != want {
			t.Fatalf("round trip of %q: got %q (%v), want %q", s, got, err, want)
		}
	})
}

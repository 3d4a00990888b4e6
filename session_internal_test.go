package tether

import (
	"encoding/json"
	"testing"
)

// The fast paths of GetString, GetInt64 and GetBool must agree with encoding/json
// on every input, including the ones they hand over to it.
func TestGetterFastPathsMatchJSON(t *testing.T) {
	inputs := []string{`"alice"`, `""`, `"a\"b"`, `"a\\b"`, `"\u00e9"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"x`, `x"`,
		`0`, `-0`, `7`, `-42`, `01`, `-01`, `+5`, `1e3`, `1.5`, `123456789012345678`, `9223372036854775807`,
		`-9223372036854775808`, `9223372036854775808`, `99999999999999999999`, `-`, `"5"`, `null`, `true`, `[]`, ``,
		`false`, ` true`, `true `, `"true"`, `True`, `tru`}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			s := &Session{rec: &Record{Values: map[string]json.RawMessage{"k": json.RawMessage(in)}}, loaded: true}
			var wantS string
			_ = json.Unmarshal([]byte(in), &wantS)
			if got := s.GetString("k"); got != wantS {
				t.Errorf("GetString(%s): got %q, want %q", in, got, wantS)
			}
			var wantN int64
			_ = json.Unmarshal([]byte(in), &wantN)
			if got := s.GetInt64("k"); got != wantN {
				t.Errorf("GetInt64(%s): got %d, want %d", in, got, wantN)
			}
			var wantB bool
			_ = json.Unmarshal([]byte(in), &wantB)
			if got := s.GetBool("k"); got != wantB {
				t.Errorf("GetBool(%s): got %v, want %v", in, got, wantB)
			}
		})
	}
}

func FuzzGetters(f *testing.F) {
	for _, s := range []string{`"alice"`, `-42`, `"a\"b"`, `01`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := &Session{rec: &Record{Values: map[string]json.RawMessage{"k": json.RawMessage(in)}}, loaded: true}
		var wantS string
		_ = json.Unmarshal([]byte(in), &wantS)
		if got := s.GetString("k"); got != wantS && json.Valid([]byte(in)) {
			t.Fatalf("GetString(%q): got %q, want %q", in, got, wantS)
		}
		var wantN int64
		_ = json.Unmarshal([]byte(in), &wantN)
		if got := s.GetInt64("k"); got != wantN && json.Valid([]byte(in)) {
			t.Fatalf("GetInt64(%q): got %d, want %d", in, got, wantN)
		}
		var wantB bool
		_ = json.Unmarshal([]byte(in), &wantB)
		if got := s.GetBool("k"); got != wantB && json.Valid([]byte(in)) {
			t.Fatalf("GetBool(%q): got %v, want %v", in, got, wantB)
		}
	})
}

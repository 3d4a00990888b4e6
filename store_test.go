package tether

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestPatchApplyIncr(t *testing.T) {
	cases := []struct {
		name  string
		value string // "" = missing
		delta int64
		want  string
		err   error
	}{
		{"missing counts as zero", "", 5, "5", nil},
		{"integer", "41", 1, "42", nil},
		{"negative", "-3", -2, "-5", nil},
		{"null is not an integer", "null", 1, "", ErrNotInteger},
		{"string", `"3"`, 1, "", ErrNotInteger},
		{"fraction", "1.5", 1, "", ErrNotInteger},
		{"overflow", strconv.FormatInt(math.MaxInt64, 10), 1, "", ErrNotInteger},
		{"underflow", strconv.FormatInt(math.MinInt64, 10), -1, "", ErrNotInteger},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Record{Values: map[string]json.RawMessage{"other": json.RawMessage(`"x"`)}}
			if tc.value != "" {
				r.Values["n"] = json.RawMessage(tc.value)
			}
			before := r.Clone()
			err := (&Patch{Incr: map[string]int64{"n": tc.delta}, Set: map[string]json.RawMessage{"s": json.RawMessage("1")}}).Apply(r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Apply: got %v, want %v", err, tc.err)
			}
			if err != nil {
				if len(r.Values) != len(before.Values) || r.Values["s"] != nil {
					t.Fatalf("failed Apply changed the record: got %v, want %v", r.Values, before.Values)
				}
				return
			}
			if got := string(r.Values["n"]); got != tc.want {
				t.Fatalf("value: got %s, want %s", got, tc.want)
			}
		})
	}
}

// Patch.Expect is checked before anything is applied, byte for byte, with
// a nil or empty value meaning "absent".
func TestPatchApplyExpect(t *testing.T) {
	cases := []struct {
		name   string
		expect map[string]json.RawMessage
		err    error
	}{
		{"match", map[string]json.RawMessage{"a": json.RawMessage(`"x"`)}, nil},
		{"absent expected absent", map[string]json.RawMessage{"b": nil}, nil},
		{"absent expected absent, empty value", map[string]json.RawMessage{"b": {}}, nil},
		{"different bytes", map[string]json.RawMessage{"a": json.RawMessage(`"y"`)}, ErrConflict},
		{"equal JSON, different bytes", map[string]json.RawMessage{"a": json.RawMessage(` "x"`)}, ErrConflict},
		{"present expected absent", map[string]json.RawMessage{"a": nil}, ErrConflict},
		{"absent expected present", map[string]json.RawMessage{"b": json.RawMessage(`1`)}, ErrConflict},
		{"one of two differs", map[string]json.RawMessage{"a": json.RawMessage(`"x"`), "b": json.RawMessage(`1`)}, ErrConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Record{Values: map[string]json.RawMessage{"a": json.RawMessage(`"x"`)}}
			p := &Patch{Expect: tc.expect, Set: map[string]json.RawMessage{"s": json.RawMessage("1")}, Incr: map[string]int64{"n": 1}}
			if p.Empty() {
				t.Errorf("Empty: got true, want false (a patch with Expect is never empty)")
			}
			err := p.Apply(r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Apply: got %v, want %v", err, tc.err)
			}
			if got, want := len(r.Values), map[bool]int{true: 1, false: 3}[err != nil]; got != want {
				t.Fatalf("values after Apply: got %d (%v), want %d", got, r.Values, want)
			}
		})
	}
}

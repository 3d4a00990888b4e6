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

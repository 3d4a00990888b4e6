package tether

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadedSession returns a Session whose record holds in under "k", as the
// middleware leaves it after a load.
func loadedSession(in string) *Session {
	return &Session{rec: &Record{Values: map[string]json.RawMessage{"k": json.RawMessage(in)}}, loaded: true}
}

// fromJSON is what a getter must return for in: json.Unmarshal into a zero
// T, or the zero T when it reports an error.
func fromJSON[T any](in []byte) T {
	var v T
	if json.Unmarshal(in, &v) != nil {
		var zero T
		return zero
	}
	return v
}

// checkGettersMatchJSON fails unless every typed getter reads in as
// encoding/json does. Invalid JSON cannot be stored by Set; a store could
// still hold it, and the getters then return their zero value (as
// json.Unmarshal, which reports an error, makes fromJSON do).
func checkGettersMatchJSON(t *testing.T, in string) {
	t.Helper()
	s := loadedSession(in)
	if got, want := s.GetString("k"), fromJSON[string]([]byte(in)); got != want {
		t.Errorf("GetString(%q): got %q, want %q", in, got, want)
	}
	if got, want := s.GetBool("k"), fromJSON[bool]([]byte(in)); got != want {
		t.Errorf("GetBool(%q): got %v, want %v", in, got, want)
	}
	if got, want := s.GetInt("k"), fromJSON[int]([]byte(in)); got != want {
		t.Errorf("GetInt(%q): got %d, want %d", in, got, want)
	}
	if got, want := s.GetInt64("k"), fromJSON[int64]([]byte(in)); got != want {
		t.Errorf("GetInt64(%q): got %d, want %d", in, got, want)
	}
	// Bits, so that -0 and 0 differ.
	if got, want := s.GetFloat64("k"), fromJSON[float64]([]byte(in)); math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("GetFloat64(%q): got %v, want %v", in, got, want)
	}
	// DeepEqual, so that the location and the offset count.
	if got, want := s.GetTime("k"), fromJSON[time.Time]([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("GetTime(%q): got %v, want %v", in, got, want)
	}
	// DeepEqual, so that nil and empty differ.
	if got, want := s.GetBytes("k"), fromJSON[[]byte]([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("GetBytes(%q): got %#v, want %#v", in, got, want)
	}
}

// getterInputs are the corpus of TestGetterFastPathsMatchJSON and the seeds
// of FuzzGetters: every branch of every fast path, and the inputs each one
// hands over to encoding/json.
var getterInputs = []string{
	// strings
	`"alice"`, `""`, `"a\"b"`, `"a\\b"`, `"\u00e9"`, `"é"`, "\"\xff\"", "\"a\tb\"", `"x`, `x"`, `"5"`, `"true"`,
	`"\u003cb\u003e"`, `"\ud800"`, ` "a"`, `"a" `, `"a" "b"`,
	// integers and numbers
	`0`, `-0`, `7`, `-42`, `01`, `-01`, `+5`, `1e3`, `1E+3`, `1e-3`, `1.5`, `-1.5`, `1.`, `.5`, `1.e3`, `1e`, `1e+`,
	`123456789012345678`, `9223372036854775807`, `-9223372036854775808`, `9223372036854775808`,
	`-9223372036854775809`, `99999999999999999999`, `9007199254740993`, `2147483648`, `-2147483649`,
	`1e308`, `1e309`, `-1e309`, `1e-400`, `4.9e-324`, `0.1`, `-`, `0x10`, `1_000`, `Infinity`, `NaN`, ` 7`, `7 `,
	// other kinds
	`null`, `true`, `false`, `[]`, `{}`, ``, ` true`, `true `, `True`, `tru`,
	// times
	`"2026-01-02T03:04:05Z"`, `"2026-01-02T03:04:05.123456789Z"`, `"2026-01-02T03:04:05+01:00"`,
	`"2026-01-02T03:04:05.5-07:30"`, `"2026-01-02T03:04:05+00:00"`, `"2026-01-02T03:04:05-00:00"`,
	`"2026-01-02 03:04:05Z"`, `"2026-01-02T03:04:05"`, `"2026-13-02T03:04:05Z"`, `"2026-01-02T24:00:00Z"`,
	`"2026-01-02T03:04:05+24:00"`, `"0000-01-01T00:00:00Z"`, `"2026-01-02T03:04:05\u005a"`, ` "2026-01-02T03:04:05Z"`,
	`"2026-01-02T03:04:05.Z"`, `"2026-01-02t03:04:05z"`,
	// bytes
	`"aGk="`, `"aGk"`, `"aGk=="`, `"aGk=\n"`, `"aG\nk="`, `"aG k="`, `"-_8="`, `"+/8="`, `"AA=="`, `"AAA="`,
	`"\u0061Gk="`, `"====="`,
}

// The fast paths of every getter must agree with encoding/json on every input,
// including the ones they hand over to it.
func TestGetterFastPathsMatchJSON(t *testing.T) {
	for _, in := range getterInputs {
		t.Run(in, func(t *testing.T) { checkGettersMatchJSON(t, in) })
	}
}

// The checks above would pass if both sides were always zero: make sure the
// fast paths do return values.
func TestGetterFastPathsReturnValues(t *testing.T) {
	s := &Session{loaded: true, rec: &Record{Values: map[string]json.RawMessage{
		"s": json.RawMessage(`"alice"`), "b": json.RawMessage(`true`), "i": json.RawMessage(`-42`),
		"f": json.RawMessage(`2.5`), "t": json.RawMessage(`"2026-01-02T03:04:05.5Z"`), "y": json.RawMessage(`"aGk="`),
	}}}
	if got := s.GetString("s"); got != "alice" {
		t.Errorf("GetString: got %q, want alice", got)
	}
	if got := s.GetBool("b"); !got {
		t.Errorf("GetBool: got false, want true")
	}
	if got := s.GetInt("i"); got != -42 {
		t.Errorf("GetInt: got %d, want -42", got)
	}
	if got := s.GetFloat64("f"); got != 2.5 {
		t.Errorf("GetFloat64: got %v, want 2.5", got)
	}
	if got, want := s.GetTime("t"), time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC); !got.Equal(want) {
		t.Errorf("GetTime: got %v, want %v", got, want)
	}
	if got := s.GetBytes("y"); string(got) != "hi" {
		t.Errorf("GetBytes: got %q, want hi", got)
	}
}

// Flash keys sort in the order they were made, also when the clock stands
// still or goes back, and never repeat.
func TestFlashKeysSortInOrderMade(t *testing.T) {
	now := time.Now().UnixNano()
	clock := []int64{now, now, now, now - int64(time.Second), now + 1, now + 1}
	var keys []string
	for _, at := range clock {
		keys = append(keys, flashKeyAt(at))
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] <= keys[i-1] {
			t.Errorf("key %d: got %q after %q, want a greater key", i, keys[i], keys[i-1])
		}
	}
	if k := flashKey(); !strings.HasPrefix(k, flashPrefix) || len(k) != len(flashPrefix)+16+1+8 || k <= keys[len(keys)-1] {
		t.Errorf("flashKey: got %q, want %s, 16 hex digits, a dot, 8 hex digits, after %q", k, flashPrefix, keys[len(keys)-1])
	}
}

func FuzzGetters(f *testing.F) {
	for _, in := range getterInputs {
		f.Add(in)
	}
	f.Fuzz(checkGettersMatchJSON)
}

// BenchmarkGetters compares each getter with the json.Unmarshal it stands
// for, on the value Set stores for a typical input. A fast path is kept
// only where it saves time or allocations here.
func BenchmarkGetters(b *testing.B) {
	ts, _ := json.Marshal(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("", 3600)))
	bs, _ := json.Marshal([]byte("0123456789abcdef0123456789abcdef"))
	benchGetter(b, "String", `"alice@example.com"`, (*Session).GetString)
	benchGetter(b, "Bool", `true`, (*Session).GetBool)
	benchGetter(b, "Int", `1234567`, (*Session).GetInt)
	benchGetter(b, "Int64", `1234567`, (*Session).GetInt64)
	benchGetter(b, "Float64", `1234.5678`, (*Session).GetFloat64)
	benchGetter(b, "Time", string(ts), (*Session).GetTime)
	benchGetter(b, "Bytes", string(bs), (*Session).GetBytes)
}

func benchGetter[T any](b *testing.B, name, in string, get func(*Session, string) T) {
	s := loadedSession(in)
	var last T
	b.Run(name+"/getter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			last = get(s, "k")
		}
	})
	raw := []byte(in)
	b.Run(name+"/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			last = fromJSON[T](raw)
		}
	})
	sink = last
}

var sink any

// Package storetest checks a [tether.Store] against the contract written on the
// [tether.Store] interface. Every store in this module runs it; so can yours:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tether.Store {
//			s := mystore.New(…)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// newStore is called once per subtest and must return an empty store that
// nothing else uses. The suite also checks the optional interfaces
// [tether.UserIndex] and [tether.Pinger] when the store implements them, and
// skips those subtests otherwise.
//
// Deadlines are relative to the real clock and "later" is simulated by
// passing a future now, which the interface takes explicitly, so the suite
// never sleeps. Times are compared at millisecond precision: a store may
// truncate them to milliseconds. Values are compared as decoded JSON: a store
// may re-encode them (compact them, escape HTML characters).
//
// Where the contract leaves a store a choice, the suite accepts every allowed
// answer: Load of an expired record may return it unchanged or ErrNotFound.
//
// The suite also requires two things the contract implies without stating:
// a store keeps its own copy of a record (changing the record passed to
// Create, or one returned by Load or Update, changes nothing stored), and
// [tether.UserIndex] indexes only authenticated sessions (ListUser and
// DeleteUser of "" find nothing).
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Run runs the conformance suite as subtests of t, each on a fresh store
// from newStore.
func Run(t *testing.T, newStore func(t *testing.T) tether.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s tether.Store)
	}{
		{"CreateLoadRoundTrip", testRoundTrip},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"CreateExistingKey", testCreateExisting},
		{"CreateConcurrentSameKey", testCreateConcurrent},
		{"LoadMissing", testLoadMissing},
		{"LoadMovesIdleDeadline", testLoadMovesIdleDeadline},
		{"LoadExpiredNeverExtends", testLoadExpired},
		{"Delete", testDelete},
		{"UpdateApplies", testUpdateApplies},
		{"UpdateNeverCreates", testUpdateNeverCreates},
		{"IncrNotInteger", testIncrNotInteger},
		{"IncrExactInt64", testIncrExact},
		{"UpdateExpect", testUpdateExpect},
		{"UpdateExpectConcurrent", testExpectConcurrent},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"DeleteRacingUpdates", testDeleteRacingUpdates},
		{"UserIndex", testUserIndex},
		{"DeleteUser", testDeleteUser},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// newKey returns a key shaped like the Manager's: hex SHA-256 of a token.
func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// raw JSON-encodes v.
func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// msNow is the current time truncated to milliseconds, the precision every
// store keeps.
func msNow() time.Time { return time.Now().Truncate(time.Millisecond) }

// newRecord returns a record, live at base, with a variety of values.
// userID "" makes an anonymous session (zero AuthenticatedAt).
func newRecord(userID string, base time.Time) *tether.Record {
	base = base.Truncate(time.Millisecond)
	rec := &tether.Record{
		Values: map[string]json.RawMessage{
			"name":          raw("alice"),
			"n":             raw(1),
			"nested":        json.RawMessage(`{"a": [1, 2.5, {"b": null}], "c": true}`),
			"unicode ✓ key": raw("snow ☃ <script>&"),
		},
		UserID:           userID,
		CreatedAt:        base.Add(-time.Minute),
		IdleDeadline:     base.Add(30 * time.Minute),
		AbsoluteDeadline: base.Add(8 * time.Hour),
	}
	if userID != "" {
		rec.AuthenticatedAt = base.Add(-30 * time.Second)
	}
	return rec
}

// create stores rec under a new key and returns the key.
func create(t *testing.T, s tether.Store, rec *tether.Record) string {
	t.Helper()
	key := newKey()
	if err := s.Create(t.Context(), key, rec); err != nil {
		t.Fatalf("Create: got %v, want nil", err)
	}
	return key
}

// peek returns the stored record without moving its idle deadline: Load at
// the real time, asking for the deadline it already has. A live record's
// deadline is then set to itself; the record is not extended.
func peek(t *testing.T, s tether.Store, key string, idle time.Time) (*tether.Record, error) {
	t.Helper()
	return s.Load(t.Context(), key, time.Now(), idle)
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// diffRecord reports every difference between got and want, prefixed by what.
func diffRecord(t *testing.T, what string, got, want *tether.Record) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil record, want %+v", what, want)
		return
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID: got %q, want %q", what, got.UserID, want.UserID)
	}
	times := []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"AuthenticatedAt", got.AuthenticatedAt, want.AuthenticatedAt},
		{"IdleDeadline", got.IdleDeadline, want.IdleDeadline},
		{"AbsoluteDeadline", got.AbsoluteDeadline, want.AbsoluteDeadline},
	}
	for _, tm := range times {
		if tm.want.IsZero() && !tm.got.IsZero() {
			t.Errorf("%s: %s: got %v, want the zero time", what, tm.name, tm.got)
		} else if !sameTime(tm.got, tm.want) {
			t.Errorf("%s: %s: got %v, want %v", what, tm.name, tm.got, tm.want)
		}
	}
	diffValues(t, what, got.Values, want.Values)
}

// diffValues compares two value maps as decoded JSON.
func diffValues(t *testing.T, what string, got, want map[string]json.RawMessage) {
	t.Helper()
	if g, w := sortedKeys(got), sortedKeys(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: value keys: got %q, want %q", what, g, w)
	}
	for k, w := range want {
		g, ok := got[k]
		if ok && !jsonEqual(g, w) {
			t.Errorf("%s: Values[%q]: got %s, want %s", what, k, g, w)
		}
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonEqual reports whether a and b are valid JSON encoding the same value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	da, db := json.NewDecoder(strings.NewReader(string(a))), json.NewDecoder(strings.NewReader(string(b)))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(normalize(x), normalize(y))
}

// normalize makes numbers comparable by value (1.0 and 1 are equal, 2.5
// stays 2.5) while integers keep all 64 bits.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		if i := int64(f); float64(i) == f {
			return i
		}
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	}
	return v
}

// intValue decodes an integer session value, failing the test if it is not one.
func intValue(t *testing.T, what string, v json.RawMessage) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal(v, &n); err != nil {
		t.Fatalf("%s: got %s, want an integer", what, v)
	}
	return n
}

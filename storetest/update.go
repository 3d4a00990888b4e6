package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Update applies each part of a Patch and returns the record as it is after
// the patch; the stored record is the returned one.
func testUpdateApplies(t *testing.T, s tether.Store) {
	base := msNow()
	now := base.Add(time.Minute)
	// Every case starts from newRecord(user, base); its values are
	// name "alice", n 1, nested {...}, "unicode ✓ key" "snow ☃ <script>&".
	cases := []struct {
		name  string
		patch tether.Patch
		edit  func(want *tether.Record) // turns the original into the expected record
	}{
		{"empty patch", tether.Patch{}, func(*tether.Record) {}},
		{"set a new key", tether.Patch{Set: map[string]json.RawMessage{"new": raw([]int{1, 2})}},
			func(w *tether.Record) { w.Values["new"] = raw([]int{1, 2}) }},
		{"set replaces", tether.Patch{Set: map[string]json.RawMessage{"name": raw("bob"), "nested": raw(nil)}},
			func(w *tether.Record) { w.Values["name"], w.Values["nested"] = raw("bob"), raw(nil) }},
		{"delete", tether.Patch{Delete: []string{"name", "unicode ✓ key"}},
			func(w *tether.Record) { delete(w.Values, "name"); delete(w.Values, "unicode ✓ key") }},
		{"delete a missing key", tether.Patch{Delete: []string{"absent"}}, func(*tether.Record) {}},
		{"set and delete one key deletes it", tether.Patch{Set: map[string]json.RawMessage{"name": raw("bob"), "x": raw(1)}, Delete: []string{"name", "x"}},
			func(w *tether.Record) { delete(w.Values, "name") }},
		{"incr", tether.Patch{Incr: map[string]int64{"n": 41}},
			func(w *tether.Record) { w.Values["n"] = raw(42) }},
		{"incr by a negative delta", tether.Patch{Incr: map[string]int64{"n": -3}},
			func(w *tether.Record) { w.Values["n"] = raw(-2) }},
		{"incr of a missing key starts at 0", tether.Patch{Incr: map[string]int64{"views": 5}},
			func(w *tether.Record) { w.Values["views"] = raw(5) }},
		{"incr by 0 of a missing key stores 0", tether.Patch{Incr: map[string]int64{"views": 0}},
			func(w *tether.Record) { w.Values["views"] = raw(0) }},
		{"incr near the int64 limit", tether.Patch{Incr: map[string]int64{"n": 1<<62 - 1, "m": -1 << 62}},
			func(w *tether.Record) { w.Values["n"], w.Values["m"] = raw(int64(1<<62)), raw(int64(-1<<62)) }},
		{"idle deadline", tether.Patch{IdleDeadline: now.Add(10 * time.Minute)},
			func(w *tether.Record) { w.IdleDeadline = now.Add(10 * time.Minute) }},
		{"idle deadline capped at the absolute deadline", tether.Patch{IdleDeadline: base.Add(9 * time.Hour)},
			func(w *tether.Record) { w.IdleDeadline = w.AbsoluteDeadline }},
		{"authenticated at", tether.Patch{AuthenticatedAt: now},
			func(w *tether.Record) { w.AuthenticatedAt = now }},
		{"everything at once", tether.Patch{
			Set:             map[string]json.RawMessage{"name": raw("bob"), "role": raw("admin")},
			Delete:          []string{"nested"},
			Incr:            map[string]int64{"n": 2, "views": 1},
			IdleDeadline:    now.Add(time.Hour),
			AuthenticatedAt: now,
		}, func(w *tether.Record) {
			w.Values["name"], w.Values["role"] = raw("bob"), raw("admin")
			delete(w.Values, "nested")
			w.Values["n"], w.Values["views"] = raw(3), raw(1)
			w.IdleDeadline = now.Add(time.Hour)
			w.AuthenticatedAt = now
		}},
	}
	for _, tc := range cases {
		for _, user := range []string{"user-1001", ""} {
			name := tc.name
			if user == "" {
				name += " (anonymous)"
			}
			t.Run(name, func(t *testing.T) {
				rec := newRecord(user, base)
				key := create(t, s, rec)
				want := rec.Clone()
				tc.edit(want)

				got, err := s.Update(t.Context(), key, now, &tc.patch)
				if err != nil {
					t.Fatalf("Update: got %v, want nil", err)
				}
				diffRecord(t, "record returned by Update", got, want)

				stored, err := s.Load(t.Context(), key, now, want.IdleDeadline)
				if err != nil {
					t.Fatalf("Load after Update: got %v, want nil", err)
				}
				diffRecord(t, "Load after Update", stored, want)
			})
		}
	}
}

// Update never creates a record: of a key never created, deleted or expired
// it returns ErrNotFound and leaves nothing behind (DESIGN guarantee 2).
func testUpdateNeverCreates(t *testing.T, s tether.Store) {
	base := msNow()
	patch := func(now time.Time) *tether.Patch {
		return &tether.Patch{
			Set:             map[string]json.RawMessage{"x": raw(1)},
			Incr:            map[string]int64{"n": 1},
			IdleDeadline:    now.Add(time.Hour),
			AuthenticatedAt: now,
		}
	}
	type state int
	const (
		missing state = iota
		deleted
		expired
	)
	cases := []struct {
		name  string
		state state
		now   func(r *tether.Record) time.Time
	}{
		{"never created", missing, func(r *tether.Record) time.Time { return base }},
		{"deleted", deleted, func(r *tether.Record) time.Time { return base }},
		{"idle deadline passed", expired, func(r *tether.Record) time.Time { return r.IdleDeadline.Add(time.Minute) }},
		{"idle deadline exactly now", expired, func(r *tether.Record) time.Time { return r.IdleDeadline }},
		{"absolute deadline passed", expired, func(r *tether.Record) time.Time { return r.AbsoluteDeadline.Add(time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord("user-1001", base)
			key := newKey()
			if tc.state != missing {
				key = create(t, s, rec)
			}
			if tc.state == deleted {
				if err := s.Delete(t.Context(), key); err != nil {
					t.Fatalf("Delete: got %v, want nil", err)
				}
			}
			now := tc.now(rec)
			if got, err := s.Update(t.Context(), key, now, patch(now)); !errors.Is(err, tether.ErrNotFound) {
				t.Fatalf("Update: got (%v, %v), want ErrNotFound", got, err)
			}

			// Seen from the real time, the record is gone, or (expired
			// cases) still the original: the patch was not applied.
			got, err := peek(t, s, key, rec.IdleDeadline)
			switch {
			case errors.Is(err, tether.ErrNotFound):
			case err != nil:
				t.Fatalf("Load after the refused Update: got %v, want ErrNotFound or the original", err)
			case tc.state != expired:
				t.Fatalf("Load after Update of a %s record: got a record with values %s, want ErrNotFound (Update must not create it)", tc.name, sortedKeys(got.Values))
			default:
				diffRecord(t, "record after the refused Update", got, rec)
			}
		})
	}
}

// Incr of a value that is not a JSON integer fitting in an int64 fails with
// ErrNotInteger and changes nothing, not even the other parts of the patch.
func testIncrNotInteger(t *testing.T, s tether.Store) {
	base := msNow()
	cases := []struct {
		name  string
		value json.RawMessage
	}{
		{"string", raw("3")},
		{"fraction", json.RawMessage(`1.5`)},
		{"exponent", json.RawMessage(`1e3`)},
		{"too large for int64", json.RawMessage(`9223372036854775808`)},
		{"bool", raw(true)},
		{"object", json.RawMessage(`{"n": 1}`)},
		{"array", json.RawMessage(`[1]`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord("user-1001", base)
			rec.Values["bad"] = tc.value
			key := create(t, s, rec)
			_, err := s.Update(t.Context(), key, base, &tether.Patch{
				Set:             map[string]json.RawMessage{"other": raw(1)},
				Delete:          []string{"name"},
				Incr:            map[string]int64{"n": 1, "bad": 1},
				IdleDeadline:    base.Add(time.Hour),
				AuthenticatedAt: base,
			})
			if !errors.Is(err, tether.ErrNotInteger) {
				t.Fatalf("Incr of %s: got %v, want ErrNotInteger", tc.value, err)
			}
			got, err := peek(t, s, key, rec.IdleDeadline)
			if err != nil {
				t.Fatalf("Load after the failed Update: got %v, want nil", err)
			}
			diffRecord(t, "record after the failed Update (want it unchanged)", got, rec)
		})
	}
}

// Incr is exact over the whole int64 range, including where a double would
// round (past 2^53), and a sum that leaves the range fails with
// ErrNotInteger, leaving the value as it was.
func testIncrExact(t *testing.T, s tether.Store) {
	base := msNow()
	cases := []struct {
		start string // stored JSON; "" for no value
		delta int64
		want  string // "" for ErrNotInteger
	}{
		{"9223372036854775806", 1, "9223372036854775807"},
		{"9223372036854775807", 1, ""},
		{"-9223372036854775807", -1, "-9223372036854775808"},
		{"-9223372036854775808", -1, ""},
		{"9223372036854775807", math.MinInt64, "-1"},
		{"", math.MinInt64, "-9223372036854775808"},
		{"", math.MaxInt64, "9223372036854775807"},
		{"1", math.MaxInt64, ""},
		{"9007199254740993", 1, "9007199254740994"},
		{"9007199254740992", 3, "9007199254740995"},
		{"999999999", 1, "1000000000"},
		{"-1000000000", 1, "-999999999"},
		{"-1", 1000000001, "1000000000"},
		{"5", -5, "0"},
		{"-0", 1, "1"},
		{"123456789012345678", 876543210987654321, "999999999999999999"},
		{"-123456789012345678", -876543210987654321, "-999999999999999999"},
		{"4611686018427387904", 4611686018427387903, "9223372036854775807"},
		{"4611686018427387904", 4611686018427387904, ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q%+d", tc.start, tc.delta), func(t *testing.T) {
			rec := newRecord("", base)
			delete(rec.Values, "n")
			if tc.start != "" {
				rec.Values["n"] = json.RawMessage(tc.start)
			}
			key := create(t, s, rec)
			got, err := s.Update(t.Context(), key, base, &tether.Patch{Incr: map[string]int64{"n": tc.delta}})
			if tc.want == "" {
				if !errors.Is(err, tether.ErrNotInteger) {
					t.Fatalf("Incr %s by %d: got (%v, %v), want ErrNotInteger", tc.start, tc.delta, got, err)
				}
				after, err := peek(t, s, key, rec.IdleDeadline)
				if err != nil {
					t.Fatalf("Load after the failed Incr: got %v, want nil", err)
				}
				diffRecord(t, "record after the failed Incr (want it unchanged)", after, rec)
				return
			}
			if err != nil {
				t.Fatalf("Incr %s by %d: got %v, want %s", tc.start, tc.delta, err, tc.want)
			}
			if v := string(got.Values["n"]); v != tc.want {
				t.Fatalf("Incr %s by %d: got %s, want %s", tc.start, tc.delta, v, tc.want)
			}
		})
	}
}

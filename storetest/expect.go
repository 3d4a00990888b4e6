package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Patch.Expect is a compare-and-set precondition: a patch whose expected
// values all match (byte for byte; nil = absent) applies, with the rest of
// the patch; one that does not match returns ErrConflict and changes
// nothing. The tether Manager renews tokens with it (issue 11, deliverable 3).
func testUpdateExpect(t *testing.T, s tether.Store) {
	base := msNow()
	now := base.Add(time.Minute)
	// A store may re-encode values (nested has spaces); Expect compares the
	// bytes as the store holds them, so such a value is expected as loaded.
	const asLoaded = "\x00as loaded"
	cases := []struct {
		name   string
		expect map[string]json.RawMessage
		patch  tether.Patch              // without Expect
		edit   func(want *tether.Record) // nil: ErrConflict, the record unchanged
	}{
		{name: "match applies the whole patch",
			expect: map[string]json.RawMessage{"name": raw("alice"), "n": raw(1)},
			patch: tether.Patch{Set: map[string]json.RawMessage{"name": raw("bob")}, Delete: []string{"nested"},
				Incr: map[string]int64{"views": 1}, IdleDeadline: now.Add(time.Hour), AuthenticatedAt: now},
			edit: func(w *tether.Record) {
				w.Values["name"], w.Values["views"] = raw("bob"), raw(1)
				delete(w.Values, "nested")
				w.IdleDeadline, w.AuthenticatedAt = now.Add(time.Hour), now
			}},
		{name: "match of a value as loaded",
			expect: map[string]json.RawMessage{"nested": json.RawMessage(asLoaded)},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"x": raw(1)}},
			edit:   func(w *tether.Record) { w.Values["x"] = raw(1) }},
		{name: "absent key expected absent (nil)",
			expect: map[string]json.RawMessage{"state": nil},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"state": raw("a")}},
			edit:   func(w *tether.Record) { w.Values["state"] = raw("a") }},
		{name: "absent key expected absent (empty)",
			expect: map[string]json.RawMessage{"state": {}},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"state": raw("a")}},
			edit:   func(w *tether.Record) { w.Values["state"] = raw("a") }},
		{name: "expect alone, matching, reads the record",
			expect: map[string]json.RawMessage{"name": raw("alice")},
			edit:   func(*tether.Record) {}},
		{name: "expect with incr of the same key compares the value before",
			expect: map[string]json.RawMessage{"n": raw(1)},
			patch:  tether.Patch{Incr: map[string]int64{"n": 1}},
			edit:   func(w *tether.Record) { w.Values["n"] = raw(2) }},
		{name: "expect with delete of the same key",
			expect: map[string]json.RawMessage{"name": raw("alice")},
			patch:  tether.Patch{Delete: []string{"name"}},
			edit:   func(w *tether.Record) { delete(w.Values, "name") }},

		{name: "mismatch changes nothing",
			expect: map[string]json.RawMessage{"name": raw("bob")},
			patch: tether.Patch{Set: map[string]json.RawMessage{"x": raw(1)}, Delete: []string{"nested"},
				Incr: map[string]int64{"n": 1}, IdleDeadline: now.Add(time.Hour), AuthenticatedAt: now}},
		{name: "one of two mismatches",
			expect: map[string]json.RawMessage{"name": raw("alice"), "n": raw(2)},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"x": raw(1)}}},
		{name: "present key expected absent",
			expect: map[string]json.RawMessage{"name": nil},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"name": raw("bob")}}},
		{name: "absent key expected present",
			expect: map[string]json.RawMessage{"state": raw("a")},
			patch:  tether.Patch{Set: map[string]json.RawMessage{"state": raw("b")}}},
		{name: "equal as JSON but not byte-equal",
			expect: map[string]json.RawMessage{"n": json.RawMessage(`1.0`)},
			patch:  tether.Patch{Incr: map[string]int64{"n": 1}}},
		{name: "expect alone, mismatching",
			expect: map[string]json.RawMessage{"n": raw(7)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord("user-1001", base)
			key := create(t, s, rec)
			stored, err := peek(t, s, key, rec.IdleDeadline)
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			p := tc.patch
			p.Expect = make(map[string]json.RawMessage, len(tc.expect))
			for k, v := range tc.expect {
				if string(v) == asLoaded {
					v = stored.Values[k]
				}
				p.Expect[k] = v
			}
			if p.Empty() {
				t.Errorf("Empty of a patch with Expect: got true, want false")
			}
			got, err := s.Update(t.Context(), key, now, &p)
			want := rec.Clone()
			if tc.edit == nil {
				if !errors.Is(err, tether.ErrConflict) {
					t.Fatalf("Update with a mismatching Expect: got (%v, %v), want ErrConflict", got, err)
				}
			} else {
				if err != nil {
					t.Fatalf("Update with a matching Expect: got %v, want nil", err)
				}
				tc.edit(want)
				diffRecord(t, "record returned by Update", got, want)
			}
			after, err := peek(t, s, key, want.IdleDeadline)
			if err != nil {
				t.Fatalf("Load after Update: got %v, want nil", err)
			}
			diffRecord(t, "record after Update", after, want)
		})
	}

	// Expect never turns a missing or expired record into a conflict.
	t.Run("missing or expired record is ErrNotFound", func(t *testing.T) {
		rec := newRecord("user-1001", base)
		key := create(t, s, rec)
		p := &tether.Patch{Expect: map[string]json.RawMessage{"name": raw("bob")}}
		for _, tc := range []struct {
			key string
			now time.Time
		}{{newKey(), now}, {key, rec.IdleDeadline.Add(time.Second)}} {
			if got, err := s.Update(t.Context(), tc.key, tc.now, p); !errors.Is(err, tether.ErrNotFound) {
				t.Errorf("Update with Expect of a missing or expired record: got (%v, %v), want ErrNotFound", got, err)
			}
		}
	})
}

// Of many concurrent Updates that expect one value and replace it, exactly
// one applies; every other one sees ErrConflict. This is what lets exactly
// one of a browser's parallel requests renew a session's token.
func testExpectConcurrent(t *testing.T, s tether.Store) {
	const n = 20
	base := msNow()
	key := create(t, s, newRecord("user-1001", base))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []int
		failures []error
	)
	for i := range n {
		wg.Go(func() {
			_, err := s.Update(t.Context(), key, base, &tether.Patch{
				Expect: map[string]json.RawMessage{"gen": nil},
				Set:    map[string]json.RawMessage{"gen": raw(i)},
				Incr:   map[string]int64{"tries": 1},
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, i)
			case !errors.Is(err, tether.ErrConflict):
				failures = append(failures, err)
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("concurrent Updates with Expect: got errors %v, want only nil or ErrConflict", failures)
	}
	if len(won) != 1 {
		t.Fatalf("concurrent compare-and-set Updates that applied: got %d (%v), want exactly 1", len(won), won)
	}
	got, err := peek(t, s, key, base.Add(30*time.Minute))
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	if g, w := string(got.Values["gen"]), fmt.Sprint(won[0]); g != w {
		t.Errorf("stored gen: got %s, want %s (the winner's)", g, w)
	}
	if g := string(got.Values["tries"]); g != "1" {
		t.Errorf("tries after %d compare-and-set Updates: got %s, want 1 (a conflict changes nothing)", n, g)
	}
}

package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Create then Load returns the record as it was created.
func testRoundTrip(t *testing.T, s tether.Store) {
	base := msNow()
	cases := []struct {
		name   string
		rec    *tether.Record
		values map[string]json.RawMessage // expected Values; nil means rec.Values
	}{
		{name: "authenticated", rec: newRecord("user-1001", base)},
		{name: "anonymous", rec: newRecord("", base)},
		{name: "nil values", rec: func() *tether.Record {
			r := newRecord("user-1001", base)
			r.Values = nil
			return r
		}(), values: map[string]json.RawMessage{}},
		{name: "empty values", rec: func() *tether.Record {
			r := newRecord("", base)
			r.Values = map[string]json.RawMessage{}
			return r
		}()},
		{name: "large value", rec: func() *tether.Record {
			r := newRecord("user-1001", base)
			r.Values["big"] = raw(strings.Repeat("x", 64<<10))
			return r
		}()},
		{name: "sub-millisecond times", rec: func() *tether.Record {
			r := newRecord("user-1001", base)
			r.CreatedAt = r.CreatedAt.Add(123 * time.Microsecond)
			r.AuthenticatedAt = r.AuthenticatedAt.Add(456 * time.Microsecond)
			return r
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.rec.Clone()
			if tc.values != nil {
				want.Values = tc.values
			}
			key := create(t, s, tc.rec)
			got, err := s.Load(t.Context(), key, time.Now(), tc.rec.IdleDeadline)
			if err != nil {
				t.Fatalf("Load after Create: got %v, want nil", err)
			}
			diffRecord(t, "Load after Create", got, want)
		})
	}
}

// A store keeps its own copy: changing a record after Create, or a record
// that Load or Update returned, changes nothing stored.
func testRecordsAreCopies(t *testing.T, s tether.Store) {
	rec := newRecord("user-1001", msNow())
	want := rec.Clone()
	key := create(t, s, rec)
	rec.Values["name"] = raw("mallory")
	rec.Values["added"] = raw(1)
	rec.UserID = "user-2"

	got, err := peek(t, s, key, want.IdleDeadline)
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	diffRecord(t, "Load after changing the record passed to Create", got, want)
	got.Values["name"] = raw("mallory")
	delete(got.Values, "n")

	upd, err := s.Update(t.Context(), key, time.Now(), &tether.Patch{})
	if err != nil {
		t.Fatalf("Update: got %v, want nil", err)
	}
	diffRecord(t, "Update after changing a loaded record", upd, want)
	upd.Values["name"] = raw("mallory")

	got, err = peek(t, s, key, want.IdleDeadline)
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	diffRecord(t, "Load after changing an updated record", got, want)
}

func testCreateExisting(t *testing.T, s tether.Store) {
	orig := newRecord("user-1001", msNow())
	key := create(t, s, orig)
	other := newRecord("user-2", msNow())
	other.Values = map[string]json.RawMessage{"name": raw("mallory")}
	if err := s.Create(t.Context(), key, other); !errors.Is(err, tether.ErrExists) {
		t.Fatalf("Create on a taken key: got %v, want ErrExists", err)
	}
	got, err := peek(t, s, key, orig.IdleDeadline)
	if err != nil {
		t.Fatalf("Load after a refused Create: got %v, want nil", err)
	}
	diffRecord(t, "record after a refused Create", got, orig)
}

// Of many concurrent Creates on one key exactly one wins.
func testCreateConcurrent(t *testing.T, s tether.Store) {
	const n = 20
	key := newKey()
	base := msNow()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			rec := newRecord("user-1001", base)
			rec.Values = map[string]json.RawMessage{"writer": raw(i)}
			<-start
			errs[i] = s.Create(t.Context(), key, rec)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("concurrent Create: writers %d and %d both succeeded, want exactly one", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, tether.ErrExists):
			t.Fatalf("concurrent Create: got %v, want nil or ErrExists", err)
		}
	}
	if winner < 0 {
		t.Fatalf("concurrent Create: got %d × ErrExists, want one success", n)
	}
	got, err := peek(t, s, key, base.Add(30*time.Minute))
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	diffValues(t, "record after concurrent Creates", got.Values, map[string]json.RawMessage{"writer": raw(winner)})
}

func testLoadMissing(t *testing.T, s tether.Store) {
	now := time.Now()
	if _, err := s.Load(t.Context(), newKey(), now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load of a key never created: got %v, want ErrNotFound", err)
	}
}

// Load of a live record moves its idle deadline to
// min(idleDeadline, AbsoluteDeadline), stores it and returns it.
func testLoadMovesIdleDeadline(t *testing.T, s tether.Store) {
	base := msNow()
	now := base.Add(20 * time.Minute) // 10 minutes before the idle deadline
	cases := []struct {
		name string
		idle time.Time // passed to Load
		want time.Time // IdleDeadline afterwards
	}{
		{"moved forward", now.Add(30 * time.Minute), now.Add(30 * time.Minute)},
		{"moved back", now.Add(5 * time.Minute), now.Add(5 * time.Minute)},
		{"capped at the absolute deadline", base.Add(9 * time.Hour), base.Add(8 * time.Hour)},
		{"equal to the absolute deadline", base.Add(8 * time.Hour), base.Add(8 * time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord("user-1001", base)
			key := create(t, s, rec)
			want := rec.Clone()
			want.IdleDeadline = tc.want

			got, err := s.Load(t.Context(), key, now, tc.idle)
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			diffRecord(t, "record returned by Load", got, want)

			// The new deadline is stored: an empty Update (which moves no
			// deadline) returns it.
			got, err = s.Update(t.Context(), key, now, &tether.Patch{})
			if err != nil {
				t.Fatalf("Update after Load: got %v, want nil", err)
			}
			diffRecord(t, "stored record after Load", got, want)
		})
	}
}

// Load of a record that has expired at now never extends it: the store
// returns it unchanged, so the caller can tell which deadline passed, or
// says ErrNotFound.
func testLoadExpired(t *testing.T, s tether.Store) {
	base := msNow()
	idle := func(r *tether.Record) time.Time { return r.IdleDeadline }
	abs := func(r *tether.Record) time.Time { return r.AbsoluteDeadline }
	cases := []struct {
		name     string
		prepare  func(r *tether.Record)           // adjusts the new record
		deadline func(r *tether.Record) time.Time // the deadline that passes
		after    time.Duration                    // now = deadline + after
		which    string                           // what ExpiredAt must report
	}{
		{"idle passed", nil, idle, time.Minute, "idle"},
		{"idle passed by a millisecond", nil, idle, time.Millisecond, "idle"},
		{"idle deadline exactly now", nil, idle, 0, "idle"},
		{"absolute passed", func(r *tether.Record) { r.IdleDeadline = r.AbsoluteDeadline }, abs, time.Minute, "absolute"},
		{"absolute deadline exactly now", func(r *tether.Record) { r.IdleDeadline = r.AbsoluteDeadline }, abs, 0, "absolute"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecord("user-1001", base)
			if tc.prepare != nil {
				tc.prepare(rec)
			}
			key := create(t, s, rec)
			now := tc.deadline(rec).Add(tc.after)

			got, err := s.Load(t.Context(), key, now, now.Add(30*time.Minute))
			switch {
			case errors.Is(err, tether.ErrNotFound):
				// The store dropped it: allowed.
			case err != nil:
				t.Fatalf("Load of an expired record: got %v, want the record or ErrNotFound", err)
			default:
				diffRecord(t, "expired record returned by Load (never extended)", got, rec)
				if expired, which := got.ExpiredAt(now); !expired || which != tc.which {
					t.Errorf("ExpiredAt of the returned record: got (%v, %q), want (true, %q)", expired, which, tc.which)
				}
			}

			// Loading it again at that time still finds it expired or gone.
			got, err = s.Load(t.Context(), key, now, now.Add(30*time.Minute))
			switch {
			case errors.Is(err, tether.ErrNotFound):
			case err != nil:
				t.Fatalf("second Load of an expired record: got %v, want the record or ErrNotFound", err)
			default:
				if expired, _ := got.ExpiredAt(now); !expired {
					t.Fatalf("second Load of an expired record: got a live record (IdleDeadline %v), want it expired at %v", got.IdleDeadline, now)
				}
			}

			// Nothing was stored: seen from the real time (when the record
			// is still live), its deadlines are the original ones.
			got, err = s.Update(t.Context(), key, time.Now(), &tether.Patch{})
			switch {
			case errors.Is(err, tether.ErrNotFound):
			case err != nil:
				t.Fatalf("Update after the expired Load: got %v, want the record or ErrNotFound", err)
			default:
				diffRecord(t, "stored record after the expired Load", got, rec)
			}
		})
	}
}

// Delete removes a record; deleting a missing key is not an error.
func testDelete(t *testing.T, s tether.Store) {
	now := time.Now()
	key := create(t, s, newRecord("user-1001", now))
	other := create(t, s, newRecord("user-1001", now))
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete: got %v, want nil", err)
	}
	if _, err := s.Load(t.Context(), key, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load after Delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.Load(t.Context(), other, now, now.Add(time.Minute)); err != nil {
		t.Fatalf("Load of another record after Delete: got %v, want nil", err)
	}
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete of a deleted key: got %v, want nil", err)
	}
	if err := s.Delete(t.Context(), newKey()); err != nil {
		t.Fatalf("Delete of a key never created: got %v, want nil", err)
	}
	expired := newRecord("", now.Add(-time.Hour))
	expired.IdleDeadline = now.Add(-time.Minute)
	key = create(t, s, expired)
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete of an expired record: got %v, want nil", err)
	}
	if _, err := s.Load(t.Context(), key, expired.CreatedAt, expired.IdleDeadline); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load after Delete of an expired record: got %v, want ErrNotFound", err)
	}
}

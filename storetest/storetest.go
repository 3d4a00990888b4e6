// Package storetest checks a tether.Store against the contract written on the
// interface. Every store in this module runs it; so can yours:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) tether.Store { return mystore.New(…) })
//	}
//
// newStore must return an empty store each time. Deadlines are relative to
// the real clock, and "later" is simulated by passing a future now, so the
// suite never sleeps. Times are compared at millisecond precision.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, newStore func(t *testing.T) tether.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s tether.Store)
	}{
		{"CreateLoadRoundTrip", testRoundTrip},
		{"CreateExistingKey", testCreateExisting},
		{"LoadMissing", testLoadMissing},
		{"LoadRefreshesIdleDeadline", testLoadRefreshes},
		{"LoadExpiredNeverExtends", testLoadExpired},
		{"UpdateApplies", testUpdateApplies},
		{"UpdateMissingNeverCreates", testUpdateNoResurrection},
		{"IncrNotInteger", testIncrNotInteger},
		{"DeleteMissing", testDeleteMissing},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"DeleteRacingUpdates", testDeleteRacingUpdates},
		{"UserIndex", testUserIndex},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var ctx = context.Background()

func newKey(t *testing.T) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// record returns a live record created now.
func record(userID string) *tether.Record {
	now := time.Now().Truncate(time.Millisecond)
	return &tether.Record{
		Values:           map[string]json.RawMessage{"name": raw("alice"), "n": raw(1)},
		UserID:           userID,
		CreatedAt:        now,
		AuthenticatedAt:  now,
		IdleDeadline:     now.Add(30 * time.Minute),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	}
}

func create(t *testing.T, s tether.Store, rec *tether.Record) string {
	t.Helper()
	key := newKey(t)
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return key
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func equalRecords(t *testing.T, what string, got, want *tether.Record) {
	t.Helper()
	if got.UserID != want.UserID {
		t.Errorf("%s UserID: got %q, want %q", what, got.UserID, want.UserID)
	}
	for name, pair := range map[string][2]time.Time{
		"CreatedAt":        {got.CreatedAt, want.CreatedAt},
		"AuthenticatedAt":  {got.AuthenticatedAt, want.AuthenticatedAt},
		"IdleDeadline":     {got.IdleDeadline, want.IdleDeadline},
		"AbsoluteDeadline": {got.AbsoluteDeadline, want.AbsoluteDeadline},
	} {
		if !sameTime(pair[0], pair[1]) {
			t.Errorf("%s %s: got %v, want %v", what, name, pair[0], pair[1])
		}
	}
	if len(got.Values) != len(want.Values) {
		t.Errorf("%s Values: got %d keys %v, want %d", what, len(got.Values), keys(got.Values), len(want.Values))
	}
	for k, v := range want.Values {
		if !jsonEqual(got.Values[k], v) {
			t.Errorf("%s Values[%q]: got %s, want %s", what, k, got.Values[k], v)
		}
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func testRoundTrip(t *testing.T, s tether.Store) {
	for _, user := range []string{"", "user-1001"} {
		want := record(user)
		key := create(t, s, want)
		got, err := s.Load(ctx, key, time.Now(), want.IdleDeadline)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		equalRecords(t, "Load after Create", got, want)
	}
	// A zero AuthenticatedAt (anonymous) stays zero.
	anon := record("")
	anon.AuthenticatedAt = time.Time{}
	key := create(t, s, anon)
	got, err := s.Load(ctx, key, time.Now(), anon.IdleDeadline)
	if err != nil || !got.AuthenticatedAt.IsZero() {
		t.Fatalf("anonymous AuthenticatedAt: got %v (%v), want zero", got.AuthenticatedAt, err)
	}
}

func testCreateExisting(t *testing.T, s tether.Store) {
	key := create(t, s, record(""))
	if err := s.Create(ctx, key, record("user-2")); !errors.Is(err, tether.ErrExists) {
		t.Fatalf("Create on a taken key: got %v, want ErrExists", err)
	}
	got, err := s.Load(ctx, key, time.Now(), time.Now().Add(time.Minute))
	if err != nil || got.UserID != "" {
		t.Fatalf("record after refused Create: got %+v %v, want the original", got, err)
	}
}

func testLoadMissing(t *testing.T, s tether.Store) {
	if _, err := s.Load(ctx, newKey(t), time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load of a missing key: got %v, want ErrNotFound", err)
	}
}

func testLoadRefreshes(t *testing.T, s tether.Store) {
	rec := record("")
	key := create(t, s, rec)
	now := time.Now().Add(20 * time.Minute)
	cases := []struct {
		name string
		idle time.Time
		want time.Time
	}{
		{"moved forward", now.Add(30 * time.Minute), now.Add(30 * time.Minute)},
		{"capped at the absolute deadline", rec.AbsoluteDeadline.Add(time.Hour), rec.AbsoluteDeadline},
	}
	for _, tc := range cases {
		got, err := s.Load(ctx, key, now, tc.idle)
		if err != nil {
			t.Fatalf("%s: Load: %v", tc.name, err)
		}
		if !sameTime(got.IdleDeadline, tc.want) {
			t.Fatalf("%s: returned IdleDeadline: got %v, want %v", tc.name, got.IdleDeadline, tc.want)
		}
		again, err := s.Load(ctx, key, now, tc.want)
		if err != nil || !sameTime(again.IdleDeadline, tc.want) {
			t.Fatalf("%s: stored IdleDeadline: got %v (%v), want %v", tc.name, again.IdleDeadline, err, tc.want)
		}
	}
}

func testLoadExpired(t *testing.T, s tether.Store) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		which string
	}{
		{"idle", 31 * time.Minute, "idle"},
		{"absolute", 9 * time.Hour, "absolute"},
	} {
		rec := record("user-1")
		rec.IdleDeadline = rec.AbsoluteDeadline // keep it live by idle for the absolute case
		if tc.which == "idle" {
			rec.IdleDeadline = rec.CreatedAt.Add(30 * time.Minute)
		}
		key := create(t, s, rec)
		later := time.Now().Add(tc.after)
		got, err := s.Load(ctx, key, later, later.Add(30*time.Minute))
		switch {
		case errors.Is(err, tether.ErrNotFound):
			// The store dropped it: allowed.
		case err != nil:
			t.Fatalf("%s: Load of an expired record: %v", tc.name, err)
		default:
			if !sameTime(got.IdleDeadline, rec.IdleDeadline) {
				t.Fatalf("%s: expired record's IdleDeadline: got %v, want unchanged %v (never extended)", tc.name, got.IdleDeadline, rec.IdleDeadline)
			}
			if expired, which := got.ExpiredAt(later); !expired || which != tc.which {
				t.Fatalf("%s: ExpiredAt: got (%v, %q), want (true, %q)", tc.name, expired, which, tc.which)
			}
		}
		// Whatever Load answered, the record never comes back to life.
		if got, err := s.Load(ctx, key, later, later.Add(30*time.Minute)); err == nil {
			if expired, _ := got.ExpiredAt(later); !expired {
				t.Fatalf("%s: expired record became live again", tc.name)
			}
		}
	}
}

func testUpdateApplies(t *testing.T, s tether.Store) {
	rec := record("user-1")
	rec.Values["gone"] = raw(true)
	key := create(t, s, rec)
	now := time.Now()
	reauth := now.Add(time.Minute).Truncate(time.Millisecond)
	got, err := s.Update(ctx, key, now, &tether.Patch{
		Set:             map[string]json.RawMessage{"name": raw("bob"), "new": raw([]int{1, 2})},
		Delete:          []string{"gone", "absent"},
		Incr:            map[string]int64{"n": 41, "fresh": 2},
		IdleDeadline:    now.Add(10 * time.Minute),
		AuthenticatedAt: reauth,
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := rec.Clone()
	want.Values = map[string]json.RawMessage{"name": raw("bob"), "new": raw([]int{1, 2}), "n": raw(42), "fresh": raw(2)}
	want.IdleDeadline = now.Add(10 * time.Minute)
	want.AuthenticatedAt = reauth
	equalRecords(t, "Update result", got, want)
	loaded, err := s.Load(ctx, key, now, now.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, "Load after Update", loaded, want)
	if loaded.UserID != "user-1" {
		t.Fatalf("UserID after Update: got %q, want unchanged", loaded.UserID)
	}
}

// Guards against resurrection (DESIGN guarantee 2).
func testUpdateNoResurrection(t *testing.T, s tether.Store) {
	now := time.Now()
	patch := &tether.Patch{Set: map[string]json.RawMessage{"x": raw(1)}, Incr: map[string]int64{"n": 1}}
	deleted := create(t, s, record("user-1"))
	if err := s.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	expired := create(t, s, record("user-1"))
	cases := []struct {
		name string
		key  string
		now  time.Time
	}{
		{"never existed", newKey(t), now},
		{"deleted", deleted, now},
		{"expired", expired, now.Add(time.Hour)},
	}
	for _, tc := range cases {
		if _, err := s.Update(ctx, tc.key, tc.now, patch); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("%s: Update: got %v, want ErrNotFound", tc.name, err)
		}
		if tc.name != "expired" {
			if _, err := s.Load(ctx, tc.key, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
				t.Fatalf("%s: Load after Update: got %v, want ErrNotFound (the update must not create the record)", tc.name, err)
			}
		}
	}
}

func testIncrNotInteger(t *testing.T, s tether.Store) {
	key := create(t, s, record(""))
	for _, bad := range []string{"name"} {
		_, err := s.Update(ctx, key, time.Now(), &tether.Patch{Incr: map[string]int64{bad: 1}, Set: map[string]json.RawMessage{"other": raw(1)}})
		if !errors.Is(err, tether.ErrNotInteger) {
			t.Fatalf("Incr of a string: got %v, want ErrNotInteger", err)
		}
	}
	got, err := s.Load(ctx, key, time.Now(), time.Now().Add(time.Minute))
	if err != nil || !jsonEqual(got.Values["name"], raw("alice")) || got.Values["other"] != nil {
		t.Fatalf("record after a failed Incr: got %+v %v, want unchanged", got, err)
	}
}

func testDeleteMissing(t *testing.T, s tether.Store) {
	if err := s.Delete(ctx, newKey(t)); err != nil {
		t.Fatalf("Delete of a missing key: got %v, want nil", err)
	}
}

// Guards against lost updates (DESIGN guarantee 3).
func testConcurrentUpdates(t *testing.T, s tether.Store) {
	rec := record("")
	rec.Values = map[string]json.RawMessage{}
	key := create(t, s, rec)
	const writers, increments = 50, 200
	var wg sync.WaitGroup
	errc := make(chan error, writers+increments)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.Update(ctx, key, time.Now(), &tether.Patch{Set: map[string]json.RawMessage{fmt.Sprintf("k%d", i): raw(i)}})
			errc <- err
		}(i)
	}
	for i := 0; i < increments; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, key, time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}})
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
	}
	got, err := s.Load(ctx, key, time.Now(), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	_ = json.Unmarshal(got.Values["n"], &n)
	if n != increments {
		t.Fatalf("counter after %d concurrent increments: got %d, want %d", increments, n, increments)
	}
	for i := 0; i < writers; i++ {
		if !jsonEqual(got.Values[fmt.Sprintf("k%d", i)], raw(i)) {
			t.Fatalf("key k%d after concurrent writes: got %s, want %d", i, got.Values[fmt.Sprintf("k%d", i)], i)
		}
	}
}

// Guards against resurrection under concurrency: a Delete racing many Updates
// leaves nothing behind.
func testDeleteRacingUpdates(t *testing.T, s tether.Store) {
	for trial := 0; trial < 10; trial++ {
		key := create(t, s, record("user-1"))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, err := s.Update(ctx, key, time.Now(), &tether.Patch{Set: map[string]json.RawMessage{"w": raw(i)}, Incr: map[string]int64{"n": 1}})
				if err != nil && !errors.Is(err, tether.ErrNotFound) {
					t.Errorf("Update racing Delete: %v", err)
				}
			}(i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := s.Delete(ctx, key); err != nil {
				t.Errorf("Delete: %v", err)
			}
		}()
		close(start)
		wg.Wait()
		if _, err := s.Load(ctx, key, time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("trial %d: Load after Delete raced Updates: got %v, want ErrNotFound", trial, err)
		}
	}
}

func testUserIndex(t *testing.T, s tether.Store) {
	idx, ok := s.(tether.UserIndex)
	if !ok {
		t.Skipf("%T does not implement tether.UserIndex", s)
	}
	a1 := create(t, s, record("alice"))
	a2 := create(t, s, record("alice"))
	expired := record("alice")
	expired.IdleDeadline = time.Now().Add(time.Millisecond)
	aExpired := create(t, s, expired)
	create(t, s, record("bob"))
	create(t, s, record(""))
	now := time.Now().Add(time.Second)
	got, err := idx.ListUser(ctx, "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[a1] == nil || got[a2] == nil || got[aExpired] != nil {
		t.Fatalf("ListUser(alice): got %d sessions, want exactly the 2 live ones", len(got))
	}
	if err := s.Delete(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.ListUser(ctx, "alice", now); len(got) != 1 || got[a2] == nil {
		t.Fatalf("ListUser after Delete: got %d sessions, want only the other one", len(got))
	}
	if none, err := idx.ListUser(ctx, "", now); err != nil || len(none) != 0 {
		t.Fatalf("ListUser of the anonymous user: got %d %v, want none", len(none), err)
	}
	n, err := idx.DeleteUser(ctx, "alice")
	if err != nil || n < 1 {
		t.Fatalf("DeleteUser: got %d %v, want at least 1", n, err)
	}
	if _, err := s.Load(ctx, a2, time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("session after DeleteUser: got %v, want ErrNotFound", err)
	}
	if got, _ := idx.ListUser(ctx, "bob", now); len(got) != 1 {
		t.Fatalf("DeleteUser(alice) touched bob: got %d sessions, want 1", len(got))
	}
}

func testPing(t *testing.T, s tether.Store) {
	p, ok := s.(tether.Pinger)
	if !ok {
		t.Skipf("%T does not implement tether.Pinger", s)
	}
	if err := p.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

package storetest

import (
	"encoding/json"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

func userIndex(t *testing.T, s tether.Store) tether.UserIndex {
	t.Helper()
	idx, ok := s.(tether.UserIndex)
	if !ok {
		t.Skipf("%T does not implement tether.UserIndex", s)
	}
	return idx
}

// listUser calls ListUser and checks it returns exactly want (key → record).
func listUser(t *testing.T, idx tether.UserIndex, what, userID string, now time.Time, want map[string]*tether.Record) {
	t.Helper()
	got, err := idx.ListUser(t.Context(), userID, now)
	if err != nil {
		t.Fatalf("%s: ListUser(%q): got %v, want nil", what, userID, err)
	}
	if g, w := mapKeys(got), mapKeys(want); len(g) != len(w) || !sameStrings(g, w) {
		t.Fatalf("%s: ListUser(%q): got %d sessions %.8q, want %d %.8q", what, userID, len(g), g, len(w), w)
	}
	for k, w := range want {
		diffRecord(t, what+": ListUser record", got[k], w)
	}
}

func mapKeys(m map[string]*tether.Record) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ListUser returns exactly the user's live sessions; Update keeps a session
// listed with its new values; Delete removes it from the index.
func testUserIndex(t *testing.T, s tether.Store) {
	idx := userIndex(t, s)
	base := msNow()
	now := base.Add(time.Minute)

	a1, a2 := newRecord("alice", base), newRecord("alice", base)
	idleGone := newRecord("alice", base)
	idleGone.IdleDeadline = base.Add(time.Second)
	absGone := newRecord("alice", base.Add(-8*time.Hour))
	absGone.IdleDeadline = absGone.AbsoluteDeadline
	bob, anon := newRecord("bob", base), newRecord("", base)
	k1, k2 := create(t, s, a1), create(t, s, a2)
	create(t, s, idleGone)
	create(t, s, absGone)
	kb, kanon := create(t, s, bob), create(t, s, anon)

	listUser(t, idx, "live and expired sessions", "alice", now, map[string]*tether.Record{k1: a1, k2: a2})
	listUser(t, idx, "another user", "bob", now, map[string]*tether.Record{kb: bob})
	listUser(t, idx, "a user without sessions", "carol", now, map[string]*tether.Record{})
	listUser(t, idx, "the anonymous user", "", now, map[string]*tether.Record{})

	updated, err := s.Update(t.Context(), k1, now, &tether.Patch{Set: map[string]json.RawMessage{"name": raw("alice2")}})
	if err != nil {
		t.Fatalf("Update: got %v, want nil", err)
	}
	listUser(t, idx, "after Update", "alice", now, map[string]*tether.Record{k1: updated, k2: a2})

	if err := s.Delete(t.Context(), k1); err != nil {
		t.Fatalf("Delete: got %v, want nil", err)
	}
	listUser(t, idx, "after Delete", "alice", now, map[string]*tether.Record{k2: a2})

	if _, err := s.Load(t.Context(), kanon, now, anon.IdleDeadline); err != nil {
		t.Fatalf("anonymous session: got %v, want nil", err)
	}
}

// DeleteUser deletes every session of the user, and only those, and returns
// how many it deleted.
func testDeleteUser(t *testing.T, s tether.Store) {
	idx := userIndex(t, s)
	base := msNow()
	now := base.Add(time.Minute)
	var carol []string
	for range 3 {
		carol = append(carol, create(t, s, newRecord("carol", base)))
	}
	dave, anon := newRecord("dave", base), newRecord("", base)
	kd, kanon := create(t, s, dave), create(t, s, anon)

	if n, err := idx.DeleteUser(t.Context(), "carol"); err != nil || n != 3 {
		t.Fatalf("DeleteUser(carol): got (%d, %v), want (3, nil)", n, err)
	}
	for i, k := range carol {
		if _, err := s.Load(t.Context(), k, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("Load of carol's session %d after DeleteUser: got %v, want ErrNotFound", i, err)
		}
		if _, err := s.Update(t.Context(), k, now, &tether.Patch{Incr: map[string]int64{"n": 1}}); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("Update of carol's session %d after DeleteUser: got %v, want ErrNotFound", i, err)
		}
	}
	listUser(t, idx, "after DeleteUser", "carol", now, map[string]*tether.Record{})
	listUser(t, idx, "another user after DeleteUser", "dave", now, map[string]*tether.Record{kd: dave})

	if n, err := idx.DeleteUser(t.Context(), "carol"); err != nil || n != 0 {
		t.Fatalf("DeleteUser(carol) again: got (%d, %v), want (0, nil)", n, err)
	}
	if n, err := idx.DeleteUser(t.Context(), "nobody"); err != nil || n != 0 {
		t.Fatalf("DeleteUser of a user without sessions: got (%d, %v), want (0, nil)", n, err)
	}
	if n, err := idx.DeleteUser(t.Context(), ""); err != nil || n != 0 {
		t.Fatalf("DeleteUser of the anonymous user: got (%d, %v), want (0, nil)", n, err)
	}
	if _, err := s.Load(t.Context(), kanon, now, anon.IdleDeadline); err != nil {
		t.Fatalf("anonymous session after DeleteUser calls: got %v, want nil", err)
	}

	// Expired sessions not yet dropped count or not, but none survive.
	gone := newRecord("erin", base.Add(-time.Hour))
	gone.IdleDeadline = base.Add(-time.Minute)
	kg := create(t, s, gone)
	kl := create(t, s, newRecord("erin", base))
	if n, err := idx.DeleteUser(t.Context(), "erin"); err != nil || n < 1 || n > 2 {
		t.Fatalf("DeleteUser(erin) with one live and one expired session: got (%d, %v), want (1 or 2, nil)", n, err)
	}
	for _, k := range []string{kg, kl} {
		if _, err := s.Load(t.Context(), k, gone.CreatedAt, gone.IdleDeadline); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("Load of erin's session after DeleteUser: got %v, want ErrNotFound", err)
		}
	}
}

func testPing(t *testing.T, s tether.Store) {
	p, ok := s.(tether.Pinger)
	if !ok {
		t.Skipf("%T does not implement tether.Pinger", s)
	}
	if err := p.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
}

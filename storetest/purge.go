package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// DeleteAll ([tether.Purger]) deletes every session, anonymous ones
// included, and only the store's own; a request in flight during the purge
// cannot bring its session back (Update of a purged key is ErrNotFound);
// the per-user index is empty after it and works again for new sessions.
func testDeleteAll(t *testing.T, s tether.Store) {
	p, ok := s.(tether.Purger)
	if !ok {
		t.Skipf("%T does not implement tether.Purger", s)
	}
	ctx := t.Context()
	if n, err := p.DeleteAll(ctx); err != nil || n != 0 {
		t.Fatalf("DeleteAll of an empty store: got (%d, %v), want (0, nil)", n, err)
	}
	base := msNow()
	now := base.Add(time.Minute)
	live := map[string]*tether.Record{}
	for _, user := range []string{"", "", "alice", "alice", "bob"} {
		rec := newRecord(user, base)
		live[create(t, s, rec)] = rec
	}
	expired := newRecord("alice", base.Add(-time.Hour))
	expired.IdleDeadline = base.Add(-time.Minute)
	kx := create(t, s, expired)

	n, err := p.DeleteAll(ctx)
	if err != nil || n < len(live) || n > len(live)+1 {
		t.Fatalf("DeleteAll of %d live sessions and one expired: got (%d, %v), want (%d or %d, nil)", len(live), n, err, len(live), len(live)+1)
	}
	for k, rec := range live {
		if _, err := s.Load(ctx, k, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
			t.Errorf("Load of a purged session of %q: got %v, want ErrNotFound", rec.UserID, err)
		}
		// A request that loaded the session before the purge saves after it.
		_, err := s.Update(ctx, k, now, &tether.Patch{Set: map[string]json.RawMessage{"late": raw(true)}, Incr: map[string]int64{"n": 1}})
		if !errors.Is(err, tether.ErrNotFound) {
			t.Errorf("Update of a purged session of %q: got %v, want ErrNotFound (no resurrection)", rec.UserID, err)
		}
		if _, err := s.Load(ctx, k, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
			t.Errorf("Load of a purged session of %q after a late Update: got %v, want ErrNotFound", rec.UserID, err)
		}
	}
	if _, err := s.Load(ctx, kx, expired.CreatedAt, expired.IdleDeadline); !errors.Is(err, tether.ErrNotFound) {
		t.Errorf("Load of a purged expired session: got %v, want ErrNotFound", err)
	}
	if n, err := p.DeleteAll(ctx); err != nil || n != 0 {
		t.Fatalf("DeleteAll again: got (%d, %v), want (0, nil)", n, err)
	}
	idx, ok := s.(tether.UserIndex)
	if !ok {
		return
	}
	listUser(t, idx, "after DeleteAll", "alice", now, map[string]*tether.Record{})
	if n, err := idx.DeleteUser(ctx, "bob"); err != nil || n != 0 {
		t.Fatalf("DeleteUser(bob) after DeleteAll: got (%d, %v), want (0, nil)", n, err)
	}
	fresh := newRecord("alice", base)
	k := create(t, s, fresh)
	listUser(t, idx, "a session created after DeleteAll", "alice", now, map[string]*tether.Record{k: fresh})
}

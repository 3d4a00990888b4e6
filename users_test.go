package tether_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func TestUserSessions(t *testing.T) {
	f := newFixture(t, nil)
	_, c1 := f.do(t, "/login", "")
	f.clock.Add(time.Second)
	_, c2 := f.do(t, "/login", "")
	list, err := f.m.UserSessions(context.Background(), "user-1")
	if err != nil || len(list) != 2 || !list[0].CreatedAt.Before(list[1].CreatedAt) {
		t.Fatalf("UserSessions: got %+v %v, want 2, oldest first", list, err)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1", "0000000000000000"); n != 0 {
		t.Fatalf("unknown id: ended %d, want 0", n)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-2", list[0].ID); n != 0 {
		t.Fatalf("another user's id: ended %d, want 0", n)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1", list[0].ID); n != 1 {
		t.Fatalf("one id: ended %d, want 1", n)
	}
	if got, _ := f.do(t, "/get", c1); got.Body.String() != "|" {
		t.Fatalf("ended session: got %q, want anonymous", got.Body.String())
	}
	if got, _ := f.do(t, "/get", c2); got.Body.String() != "user-1|" {
		t.Fatalf("other session: got %q, want still logged in", got.Body.String())
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1"); n != 1 {
		t.Fatalf("all: ended %d, want 1", n)
	}
}

func TestSetUserSessions(t *testing.T) {
	f := newFixture(t, nil)
	_, c1 := f.do(t, "/login", "")
	_, c2 := f.do(t, "/login", "")
	n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "yes")
	if err != nil || n != 2 {
		t.Fatalf("SetUserSessions: got %d %v, want 2", n, err)
	}
	for _, c := range []string{c1, c2} {
		if got, _ := f.do(t, "/get?k=flag", c); got.Body.String() != "user-1|yes" {
			t.Fatalf("flag in session: got %q, want user-1|yes", got.Body.String())
		}
	}
	if n, err := f.m.SetUserSessions(context.Background(), "user-2", "flag", "yes"); err != nil || n != 0 {
		t.Fatalf("another user: got %d %v, want 0", n, err)
	}
	f.do(t, "/logout", c1)
	if n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "again"); err != nil || n != 1 {
		t.Fatalf("after one logout: got %d %v, want 1 (no resurrection)", n, err)
	}
	if got, _ := f.do(t, "/get?k=flag", c1); got.Body.String() != "|" {
		t.Fatalf("logged-out session: got %q, want anonymous", got.Body.String())
	}
}

// rotatingStore rotates the first record SetUserSessions updates just
// before the update lands, as a concurrent login or Regenerate would: the
// values are copied to a new key that the first listing did not hold, and
// the old record is deleted.
type rotatingStore struct {
	*memstore.Store
	rotated atomic.Bool
	newKey  string
}

func (s *rotatingStore) Update(ctx context.Context, k string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	if _, ok := p.Set["flag"]; ok && s.rotated.CompareAndSwap(false, true) {
		rec, err := s.Store.Load(ctx, k, now, now.Add(time.Hour))
		if err != nil {
			return nil, err
		}
		s.newKey = k + "-rotated"
		if err := s.Store.Create(ctx, s.newKey, rec); err != nil {
			return nil, err
		}
		if err := s.Store.Delete(ctx, k); err != nil {
			return nil, err
		}
	}
	return s.Store.Update(ctx, k, now, p)
}

// Guards against a session that rotates while an admin tool flags a user's
// sessions: the new record, absent from the first listing, must be flagged
// too, or the account change it stands for is never applied to it.
func TestSetUserSessionsCatchesRotation(t *testing.T) {
	rs := &rotatingStore{Store: memstore.New()}
	f := newFixture(t, func(c *tether.Config) { c.Store = rs })
	f.do(t, "/login", "")
	n, err := f.m.SetUserSessions(context.Background(), "user-1", "flag", "yes")
	if err != nil || n != 1 {
		t.Fatalf("SetUserSessions: got %d %v, want 1 (the rotated record)", n, err)
	}
	now := f.clock.Now()
	rec, err := rs.Store.Load(context.Background(), rs.newKey, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rec.Values["flag"]); got != `"yes"` {
		t.Fatalf("flag in the record a rotation created: got %q, want \"yes\"", got)
	}
}

package redisstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

func newIndexStore(t *testing.T) (*Store, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	s, err := New(rdb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb
}

func userRecord(now time.Time) *tether.Record {
	return &tether.Record{UserID: "user-1", CreatedAt: now, AuthenticatedAt: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)}
}

// Guards against index clean-up dropping the entry of a session being
// created (Create writes the entry first): such a session would then be
// missed by every later "log out everywhere" and account disable.
func TestIndexKeepsEntriesOfSessionsBeingCreated(t *testing.T) {
	s, rdb := newIndexStore(t)
	ctx := context.Background()
	now := time.Now()
	idx := s.indexKey("user-1")
	creating, old := memberFor("aa", now), memberFor("bb", now.Add(-time.Minute))
	for _, m := range []string{creating, old} {
		if err := rdb.ZAdd(ctx, idx, redis.Z{Score: float64(now.Add(time.Hour).UnixMilli()), Member: m}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ListUser(ctx, "user-1", now); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		got, err := rdb.ZRange(ctx, idx, 0, -1).Result()
		if err != nil || len(got) != 1 || got[0] != creating {
			t.Fatalf("%s: index holds %v %v, want only the entry written just now", what, got, err)
		}
	}
	check("after ListUser")
	if n, err := s.DeleteUser(ctx, "user-1"); err != nil || n != 0 {
		t.Fatalf("DeleteUser: got %d %v, want 0", n, err)
	}
	check("after DeleteUser")
}

// zrangeHook runs once after the first ZRANGE it sees.
type zrangeHook struct {
	armed atomic.Bool
	then  func(ctx context.Context)
}

func (h *zrangeHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *zrangeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *zrangeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cmd.Name() == "zrange" && h.armed.CompareAndSwap(true, false) {
			h.then(ctx)
		}
		return err
	}
}

// Guards against a revoke-all missing a session that a rotation creates
// between DeleteUser's listing and its deletes: DeleteUser lists again
// until nothing new appears.
func TestDeleteUserCatchesSessionsCreatedMeanwhile(t *testing.T) {
	s, rdb := newIndexStore(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.Create(ctx, "old", userRecord(now)); err != nil {
		t.Fatal(err)
	}
	hook := &zrangeHook{then: func(ctx context.Context) {
		if err := s.Create(ctx, "rotated", userRecord(now)); err != nil {
			t.Error(err)
		}
	}}
	rdb.AddHook(hook)
	hook.armed.Store(true)
	n, err := s.DeleteUser(ctx, "user-1")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser: got %d %v, want 2 (the listed session and the one created meanwhile)", n, err)
	}
	for _, k := range []string{"old", "rotated"} {
		if _, err := s.Load(ctx, k, now, now.Add(time.Hour)); err != tether.ErrNotFound {
			t.Fatalf("session %s after DeleteUser: got %v, want ErrNotFound", k, err)
		}
	}
}

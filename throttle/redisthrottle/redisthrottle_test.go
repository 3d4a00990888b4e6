package redisthrottle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/throttle"
	"github.com/tetherhq/tether/throttle/throttletest"
)

// newCounter returns a Counter on a fresh redis-server, and its client.
func newCounter(t *testing.T) (*Counter, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 50})
	t.Cleanup(func() { rdb.Close() })
	return New(rdb, "t:"), rdb
}

func TestConformance(t *testing.T) {
	throttletest.Run(t, func(t *testing.T) throttle.Counter { c, _ := newCounter(t); return c })
}

// Guards against a late Undo erasing a count of the next window: an
// attempt counted just before its window ends and taken back (success,
// abandon) just after must not give the next window an extra guess.
func TestUndoStaysInItsWindow(t *testing.T) {
	ctx := context.Background()
	c, rdb := newCounter(t)
	old, _ := c.Add(ctx, "k", time.Minute)
	if err := rdb.Del(ctx, "t:login:k").Err(); err != nil { // the window ends
		t.Fatal(err)
	}
	_, _ = c.Add(ctx, "k", time.Minute)
	_ = c.Undo(ctx, "k", old.Window)
	if got, _ := c.Add(ctx, "k", time.Minute); got.N != 2 {
		t.Fatalf("next window after a late Undo: got %d, want 2", got.N)
	}
}

// Ending an attempt works even when the request's context is gone (the
// client gave up during the password check): the attempt must not stay
// counted as a failure.
func TestAbandonAfterClientLeft(t *testing.T) {
	c, _ := newCounter(t)
	l := throttle.New(c, throttle.Policy{AccountLimit: 3, IPLimit: 100, Window: time.Minute})
	a := throttle.Attempt{Username: "alice", IP: "192.0.2.1"}
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		tk, _, _, err := l.Begin(ctx, a)
		if err != nil || tk == nil {
			t.Fatalf("Begin: got %v %v, want allowed (abandoned attempts do not count)", tk, err)
		}
		cancel()
		if err := tk.Abandon(ctx); err != nil {
			t.Fatalf("Abandon on a cancelled context: %v", err)
		}
	}
}

func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	c := New(rdb, "t:")
	ctx := context.Background()
	srv.Kill()
	if _, err := c.Add(ctx, "k", time.Minute); !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Add with Redis down: got %v, want an error matching tether.ErrStoreUnavailable", err)
	}
	if err := c.Undo(ctx, "k", "w"); !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Undo with Redis down: got %v, want an error matching tether.ErrStoreUnavailable", err)
	}
	if err := c.Reset(ctx, "k"); !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Reset with Redis down: got %v, want an error matching tether.ErrStoreUnavailable", err)
	}
}

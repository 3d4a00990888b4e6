// Package throttletest checks that a [throttle.Counter] keeps its contract:
// counts per key within one window, an Undo that takes back only from the
// window it names and never creates a key, a Reset that starts over in a new
// window, concurrent Adds that are all counted, and a live window that
// survives a flood of other keys (a counter with no room refuses the new
// key with a [*throttle.FullError] rather than forget a live window). Run
// it from a test of
// every Counter implementation:
//
//	func TestCounter(t *testing.T) {
//		throttletest.Run(t, func(t *testing.T) throttle.Counter { return newMyCounter(t) })
//	}
package throttletest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether/throttle"
)

// fillerKeys is how many other keys FillersDoNotEvictLiveWindows adds.
const fillerKeys = 300

// Run runs the conformance checks on fresh counters from newCounter, each
// in its own subtest.
func Run(t *testing.T, newCounter func(t *testing.T) throttle.Counter) {
	ctx := context.Background()
	t.Run("AddUndoReset", func(t *testing.T) {
		c := newCounter(t)
		var first throttle.Count
		for i := int64(1); i <= 3; i++ {
			got, err := c.Add(ctx, "k", time.Minute)
			if err != nil || got.N != i || got.Left <= 0 || got.Left > time.Minute || got.Window == "" {
				t.Fatalf("Add %d: got %+v %v, want %d within the window", i, got, err, i)
			}
			if i == 1 {
				first = got
			} else if got.Window != first.Window {
				t.Fatalf("Add %d: got window %q, want the first Add's %q", i, got.Window, first.Window)
			}
		}
		if err := c.Undo(ctx, "k", first.Window); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Add(ctx, "k", time.Minute); got.N != 3 {
			t.Fatalf("Add after Undo: got %d, want 3", got.N)
		}
		if err := c.Undo(ctx, "k", "another-window"); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Add(ctx, "k", time.Minute); got.N != 4 {
			t.Fatalf("Add after an Undo for another window: got %d, want 4 (nothing taken)", got.N)
		}
		if err := c.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Add(ctx, "k", time.Minute); got.N != 1 || got.Window == first.Window {
			t.Fatalf("Add after Reset: got %+v, want 1 in a new window", got)
		}
		if err := c.Undo(ctx, "missing", first.Window); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Add(ctx, "missing", time.Minute); got.N != 1 {
			t.Fatalf("Undo on a missing key created one: next Add got %d, want 1", got.N)
		}
	})
	t.Run("UndoAfterReset", func(t *testing.T) {
		// A window started after a Reset is another window: an Undo for
		// the old one must not take from it.
		c := newCounter(t)
		before, _ := c.Add(ctx, "r", time.Minute)
		_ = c.Reset(ctx, "r")
		_, _ = c.Add(ctx, "r", time.Minute)
		_ = c.Undo(ctx, "r", before.Window)
		if got, _ := c.Add(ctx, "r", time.Minute); got.N != 2 {
			t.Fatalf("after a Reset and an Undo for the old window: got %d, want 2", got.N)
		}
	})
	// Guards against the check-then-act race: when the count was read
	// before the password check and raised only after it failed, 50
	// parallel wrong passwords all passed a limit of 10. Limiter.Begin
	// counts first, so with an atomic Add exactly the limit's number get
	// through.
	t.Run("LimiterHoldsUnderConcurrency", func(t *testing.T) {
		l := throttle.New(newCounter(t), throttle.Policy{AccountLimit: 10, IPLimit: 1000, Window: time.Minute})
		var allowed, refused atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, wait, _, err := l.Begin(ctx, throttle.Attempt{Username: "alice", IP: fmt.Sprintf("192.0.2.%d", i)})
				switch {
				case err != nil:
					t.Error(err)
				case wait == 0:
					allowed.Add(1)
				default:
					refused.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if a, r := allowed.Load(), refused.Load(); a != 10 || r != 40 {
			t.Fatalf("50 concurrent attempts, limit 10: got %d allowed and %d refused, want 10 and 40", a, r)
		}
	})
	// Guards against issue 11 row 6: a counter that made room by
	// forgetting the window ending soonest let 100k filler keys wipe a
	// targeted account's count. A counter may refuse a new key when full,
	// with a *throttle.FullError and a positive wait, but never forget a
	// live window. (Give this check a counter small enough to fill with
	// fillerKeys, as the Memory test does, to exercise the full path.)
	t.Run("FillersDoNotEvictLiveWindows", func(t *testing.T) {
		c := newCounter(t)
		var target throttle.Count
		for range 3 {
			target, _ = c.Add(ctx, "target", time.Minute)
		}
		refused := 0
		for i := range fillerKeys {
			_, err := c.Add(ctx, fmt.Sprint("filler-", i), time.Minute)
			var full *throttle.FullError
			switch {
			case errors.As(err, &full) && full.RetryAfter > 0:
				refused++
			case err != nil:
				t.Fatalf("filler %d: got %v, want nil or a *throttle.FullError with a positive RetryAfter", i, err)
			}
		}
		got, err := c.Add(ctx, "target", time.Minute)
		if err != nil || got.N != 4 || got.Window != target.Window {
			t.Fatalf("the target's Add after %d filler keys (%d refused): got %+v %v, want 4 in window %q", fillerKeys, refused, got, err, target.Window)
		}
		t.Logf("%d of %d filler keys refused as full", refused, fillerKeys)
	})
	t.Run("ConcurrentAdds", func(t *testing.T) {
		c := newCounter(t)
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = c.Add(ctx, "c", time.Minute) }()
		}
		wg.Wait()
		if got, _ := c.Add(ctx, "c", time.Minute); got.N != 51 {
			t.Fatalf("after 50 concurrent adds: got %d, want 51", got.N)
		}
	})
}

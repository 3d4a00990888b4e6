package sweeper

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoop(t *testing.T) {
	t.Run("sweeps until Stop, which waits for the sweep in progress", func(t *testing.T) {
		var calls, running atomic.Int32
		entered := make(chan struct{}, 1)
		l := New()
		l.Start(time.Millisecond, func(ctx context.Context) {
			running.Add(1)
			defer running.Add(-1)
			calls.Add(1)
			select {
			case entered <- struct{}{}:
			default:
			}
			<-ctx.Done() // a long sweep: only Stop ends it
		})
		<-entered
		l.Stop()
		if got := running.Load(); got != 0 {
			t.Fatalf("sweeps running after Stop: got %d, want 0", got)
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("sweeps: got %d, want 1", got)
		}
		select {
		case <-l.Stopping():
		default:
			t.Errorf("Stopping after Stop: got open, want closed")
		}
		l.Stop() // a second Stop returns
	})
	t.Run("Stopping closes only when Stop starts", func(t *testing.T) {
		l := New()
		select {
		case <-l.Stopping():
			t.Fatalf("Stopping before Stop: got closed, want open")
		default:
		}
		l.Start(0, func(context.Context) {})
		l.Stop()
	})
	t.Run("a non-positive interval sweeps never", func(t *testing.T) {
		var calls atomic.Int32
		l := New()
		l.Start(0, func(context.Context) { calls.Add(1) })
		time.Sleep(5 * time.Millisecond)
		l.Stop()
		if got := calls.Load(); got != 0 {
			t.Errorf("sweeps: got %d, want 0", got)
		}
	})
}

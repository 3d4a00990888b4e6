// Package sweeper runs a store's periodic clean-up of expired records in
// the background (sqlitestore and pgstore), and stops it on Close.
//
// Concurrency: Start's sweep runs on one goroutine, one call at a time.
// Stop and Stopping are safe for concurrent use; Stop may be called more
// than once.
package sweeper

import (
	"context"
	"sync"
	"time"
)

// Loop is a running (or, with a non-positive interval, never started)
// clean-up loop.
type Loop struct {
	ctx    context.Context // done once Stop starts
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop has returned
	once   sync.Once
}

// New returns a loop that is not sweeping yet: assign it where the
// sweep function will find it, then call Start (so that a first tick
// never sees the field unset).
func New() *Loop {
	l := &Loop{done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l
}

// Start calls sweep every interval until Stop, with a context that is
// cancelled when Stop starts. A non-positive interval starts no loop
// (Stop still works). sweep's errors are its own business: a failed sweep
// is retried at the next tick. Call it once.
func (l *Loop) Start(interval time.Duration, sweep func(ctx context.Context)) {
	if interval <= 0 {
		close(l.done)
		return
	}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-t.C:
				sweep(l.ctx)
			}
		}
	}()
}

// Stopping is closed once Stop starts: work that waits (a queued write)
// gives up then.
func (l *Loop) Stopping() <-chan struct{} { return l.ctx.Done() }

// Stop cancels the loop's context and waits until a sweep in progress has
// returned.
func (l *Loop) Stop() {
	l.once.Do(l.cancel)
	<-l.done
}

package tether

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrEncryptedContention is returned (wrapped) by an encrypting store
// ([EncryptStore]) when an increment or a compare-and-set kept meeting
// concurrent changes of the same values for 100 rounds in a row. It
// matches [ErrStoreUnavailable] too: the middleware answers 503, a retry
// later succeeds, and nothing was changed.
var ErrEncryptedContention = errors.New("tether: encrypted session value changed by other requests on every attempt")

// maxCASAttempts bounds the read-compute-write rounds of one Update, and
// casBackoffMin and casBackoffMax the random pause between them.
const (
	maxCASAttempts = 100
	casBackoffMin  = 100 * time.Microsecond
	casBackoffMax  = 10 * time.Millisecond
)

type contentionError struct {
	attempts int
	keys     []string
}

func (e *contentionError) Error() string {
	return fmt.Sprintf("%s: %d attempts on %q", ErrEncryptedContention.Error(), e.attempts, e.keys)
}

func (e *contentionError) Is(target error) bool {
	return target == ErrEncryptedContention || target == ErrStoreUnavailable
}

// needsCAS reports whether p must be computed on plaintext: a store cannot
// add to, or compare, a value it holds encrypted.
func needsCAS(p *Patch) bool { return len(p.Incr) > 0 || len(p.Expect) > 0 }

// expects reports whether p's precondition names the value name.
func expects(p *Patch, name string) bool {
	_, ok := p.Expect[name]
	return ok
}

// updateCAS applies p, which increments or compares values, to the record
// under key: it reads the record, checks p.Expect against the plaintext
// (ErrConflict when it differs) and adds p.Incr to it (ErrNotInteger as a
// store would), then writes the results sealed, with the rest of p, on the
// condition that those values still hold the ciphertext just read. When
// another request changed one of them meanwhile, it starts again, at most
// maxCASAttempts times. Changes to other values do not conflict.
//
// Within one process, such Updates of one record take turns (see keyLocks),
// so they conflict only with other processes sharing the store.
func (e *encStore) updateCAS(ctx context.Context, key string, now time.Time, p *Patch) (*Record, error) {
	unlock, err := e.locks.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c := e.ring.forRecord(key)
	pause := casBackoffMin
	for attempt := 1; ; attempt++ {
		cur, err := e.inner.Update(ctx, key, now, &Patch{}) // reads, only while live
		if err != nil {
			return nil, err
		}
		q, err := casPatch(c, p, cur)
		if err != nil {
			return nil, err
		}
		rec, err := e.inner.Update(ctx, key, now, q)
		switch {
		case err == nil:
			return e.openWith(c, rec)
		case !errors.Is(err, ErrConflict):
			return nil, err
		case attempt == maxCASAttempts:
			return nil, &contentionError{attempts: attempt, keys: casKeys(p)}
		}
		t := time.NewTimer(pause/2 + rand.N(pause/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, storeErr(ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, casBackoffMax)
	}
}

// casPatch turns p into the patch written to the inner store, given the
// record as stored (cur). Only the values p increments or compares are
// opened: a round costs one decryption per such value, however many values
// the session holds (the whole record is opened once, on success).
func casPatch(c *recordCipher, p *Patch, cur *Record) (*Patch, error) {
	keys := casKeys(p)
	next := &Record{Values: make(map[string]json.RawMessage, len(keys))}
	for _, k := range keys {
		if v, ok := cur.Values[k]; ok {
			plain, err := c.open(k, v)
			if err != nil {
				return nil, err
			}
			next.Values[k] = plain
		}
	}
	// The plaintext check and sums follow Patch.Apply exactly.
	if err := (&Patch{Incr: p.Incr, Expect: p.Expect}).Apply(next); err != nil {
		return nil, err
	}
	set := make(map[string]json.RawMessage, len(p.Set)+len(p.Incr))
	for k, v := range p.Set {
		set[k] = v
	}
	for k := range p.Incr {
		set[k] = next.Values[k]
	}
	q := *p
	q.Incr = nil
	q.Set = c.sealAll(set)
	q.Expect = make(map[string]json.RawMessage, len(keys))
	for _, k := range keys {
		q.Expect[k] = cur.Values[k] // nil when absent: must still be absent
	}
	return &q, nil
}

// casKeys returns the names p increments or compares.
func casKeys(p *Patch) []string {
	keys := make([]string, 0, len(p.Incr)+len(p.Expect))
	for k := range p.Incr {
		keys = append(keys, k)
	}
	for k := range p.Expect {
		if _, dup := p.Incr[k]; !dup {
			keys = append(keys, k)
		}
	}
	return keys
}

// keyLocks makes the compare-and-set Updates of one record, in one process,
// take turns. Without it, N concurrent increments of one counter (a burst
// of GET /views) would each read, lose the race to one of the others and
// retry: O(N^2) store calls, and under a slow store some would run out of
// attempts. Taking turns, they cost two store calls each. A lock is held
// only for the store calls of one Update, and only for its record: other
// sessions never wait. The zero value is ready for use.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	turn chan struct{} // holds a token while the lock is taken
	refs int           // holders and waiters; the entry goes at 0
}

// lock waits for key's turn, or for ctx to end (an ErrStoreUnavailable,
// as for a store that does not answer in time).
func (l *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		k = &keyLock{turn: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.turn <- struct{}{}:
		return func() { <-k.turn; release() }, nil
	case <-ctx.Done():
		release()
		return nil, storeErr(ctx.Err())
	}
}

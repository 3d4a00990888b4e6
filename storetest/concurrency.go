package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Concurrent Updates of different keys of one record all take effect and
// increments are never lost (DESIGN guarantee 3), while Loads run alongside.
func testConcurrentUpdates(t *testing.T, s tether.Store) {
	const writers, increments, loaders = 50, 200, 50
	base := msNow()
	rec := newRecord("user-1001", base)
	rec.Values = map[string]json.RawMessage{}
	key := create(t, s, rec)

	var wg sync.WaitGroup
	start := make(chan struct{})
	errc := make(chan error, writers+increments+loaders)
	counts := make(chan int64, increments)
	for i := range writers {
		wg.Go(func() {
			<-start
			_, err := s.Update(t.Context(), key, time.Now(), &tether.Patch{
				Set: map[string]json.RawMessage{fmt.Sprintf("k%d", i): raw(i)},
			})
			errc <- err
		})
	}
	for range increments {
		wg.Go(func() {
			<-start
			got, err := s.Update(t.Context(), key, time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}})
			if err == nil {
				var n int64
				if json.Unmarshal(got.Values["n"], &n) != nil {
					err = fmt.Errorf("Update returned n = %s, want an integer", got.Values["n"])
				}
				counts <- n
			}
			errc <- err
		})
	}
	for range loaders {
		wg.Go(func() {
			<-start
			now := time.Now()
			_, err := s.Load(t.Context(), key, now, now.Add(30*time.Minute))
			errc <- err
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	close(counts)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent Update or Load: got %v, want nil", err)
		}
	}

	// Each increment saw a different count: 1 … increments in some order.
	var seen []int64
	for n := range counts {
		seen = append(seen, n)
	}
	sort.Slice(seen, func(i, j int) bool { return seen[i] < seen[j] })
	for i, n := range seen {
		if n != int64(i+1) {
			t.Fatalf("counts returned by %d concurrent increments, sorted: got %d at position %d (first %d, last %d), want each of 1…%d once",
				increments, n, i+1, seen[0], seen[len(seen)-1], increments)
		}
	}

	now := time.Now()
	got, err := s.Load(t.Context(), key, now, now.Add(30*time.Minute))
	if err != nil {
		t.Fatalf("Load: got %v, want nil", err)
	}
	if n := intValue(t, "counter", got.Values["n"]); n != increments {
		t.Errorf("counter after %d concurrent increments: got %d, want %d", increments, n, increments)
	}
	for i := range writers {
		k := fmt.Sprintf("k%d", i)
		if v, ok := got.Values[k]; !ok || !jsonEqual(v, raw(i)) {
			t.Errorf("Values[%q] after concurrent writes: got %s, want %d", k, v, i)
		}
	}
	if len(got.Values) != writers+1 {
		t.Errorf("value count after concurrent writes: got %d, want %d", len(got.Values), writers+1)
	}
}

// A Delete racing many Updates and Loads leaves nothing behind: no update
// that was in flight during a logout brings the session back.
func testDeleteRacingUpdates(t *testing.T, s tether.Store) {
	const trials, updaters, loaders = 20, 10, 5
	for trial := range trials {
		key := create(t, s, newRecord("user-1001", msNow()))
		var wg sync.WaitGroup
		start := make(chan struct{})
		errc := make(chan error, updaters+loaders+1)
		for i := range updaters {
			wg.Go(func() {
				<-start
				now := time.Now()
				_, err := s.Update(t.Context(), key, now, &tether.Patch{
					Set:          map[string]json.RawMessage{"w": raw(i)},
					Incr:         map[string]int64{"n": 1},
					IdleDeadline: now.Add(time.Hour),
				})
				if err != nil && !errors.Is(err, tether.ErrNotFound) {
					errc <- fmt.Errorf("Update racing Delete: got %v, want nil or ErrNotFound", err)
				}
			})
		}
		for range loaders {
			wg.Go(func() {
				<-start
				now := time.Now()
				_, err := s.Load(t.Context(), key, now, now.Add(time.Hour))
				if err != nil && !errors.Is(err, tether.ErrNotFound) {
					errc <- fmt.Errorf("Load racing Delete: got %v, want nil or ErrNotFound", err)
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := s.Delete(t.Context(), key); err != nil {
				errc <- fmt.Errorf("Delete racing Updates: got %v, want nil", err)
			}
		})
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatalf("trial %d: %v", trial, err)
		}
		now := time.Now()
		if _, err := s.Load(t.Context(), key, now, now.Add(time.Minute)); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("trial %d: Load after Delete raced Updates: got %v, want ErrNotFound", trial, err)
		}
		if _, err := s.Update(t.Context(), key, now, &tether.Patch{Incr: map[string]int64{"n": 1}}); !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("trial %d: Update after Delete raced Updates: got %v, want ErrNotFound", trial, err)
		}
	}
}

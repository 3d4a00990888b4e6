package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
)

// Load picks a plain GET for a busy session and the load script for a read
// that must move the idle deadline (issue 13: the script cost Redis about
// twice a GET's CPU). Whatever it picks, the answer is the script's: a GET
// whose copy must move, or is gone, is answered as the script would answer.
// Guards against: a GET-served read that leaves a due deadline unmoved (a
// session expiring while in use), or serves a session deleted elsewhere.
func TestLoadChoosesGetOrScript(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	idle := 30 * time.Minute
	// Each store's smallest move of the deadline (the load script's skip,
	// or the cache's slack when the store caches), as the steps' unit.
	type opened struct {
		open func(t *testing.T, prefix string) *redisstore.Store
		unit time.Duration
	}
	stores := map[string]opened{
		"go-redis": {unit: time.Second, open: func(t *testing.T, prefix string) *redisstore.Store {
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
			t.Cleanup(func() { rdb.Close() })
			s, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			return s
		}},
		// With the cache on, the reads that skip it (fresh reads) take the
		// same path.
		"rueidis fresh": {unit: idle / 30, open: func(t *testing.T, prefix string) *redisstore.Store {
			return openCached(t, srv.Addr, prefix, redisstore.Options{})
		}},
	}
	type step struct {
		name        string
		other       func(t *testing.T, a *redisstore.Store, key string, t0 time.Time, u time.Duration)
		at          float64 // read on b at t0 + at units
		gets, evals int     // commands b's Load sends: plain GETs, scripts
		wantIdle    float64 // the idle deadline returned and stored, t0 + idle + wantIdle units; -1: ErrNotFound
	}
	steps := []step{
		{name: "unknown to b: script", at: 0, evals: 1, wantIdle: 0},
		{name: "busy: GET", at: 0.3, gets: 1, wantIdle: 0},
		{name: "still inside the skip: GET", at: 0.9, gets: 1, wantIdle: 0},
		{name: "due: the script moves it", at: 2, evals: 1, wantIdle: 2},
		{name: "busy again: GET", at: 2.5, gets: 1, wantIdle: 2},
		{name: "moved elsewhere: b's entry is old, the script returns the newer copy",
			other: func(t *testing.T, a *redisstore.Store, key string, t0 time.Time, u time.Duration) {
				now := t0.Add(units(3.5, u))
				if _, err := a.Load(fresh(t), key, now, now.Add(idle)); err != nil {
					t.Fatalf("Load on a: %v", err)
				}
			},
			at: 3.6, evals: 1, wantIdle: 3.5},
		{name: "shortened elsewhere: GET, then the script",
			other: func(t *testing.T, a *redisstore.Store, key string, t0 time.Time, u time.Duration) {
				if _, err := a.Update(t.Context(), key, t0.Add(units(3.7, u)), &tether.Patch{IdleDeadline: t0.Add(idle / 3)}); err != nil {
					t.Fatalf("Update on a: %v", err)
				}
			},
			at: 3.8, gets: 1, evals: 1, wantIdle: 3.8},
		{name: "deleted elsewhere: GET says gone",
			other: func(t *testing.T, a *redisstore.Store, key string, _ time.Time, _ time.Duration) {
				if err := a.Delete(t.Context(), key); err != nil {
					t.Fatalf("Delete on a: %v", err)
				}
			},
			at: 3.9, gets: 1, wantIdle: -1},
	}
	for name, o := range stores {
		t.Run(name, func(t *testing.T) {
			prefix := fmt.Sprintf("g%d:", prefixes.Add(1))
			a, b := o.open(t, prefix), o.open(t, prefix)
			for _, s := range []*redisstore.Store{a, b} {
				if err := s.Preload(t.Context()); err != nil {
					t.Fatalf("Preload: %v", err)
				}
			}
			key, rec := newSession(t, a, "u1")
			t0 := rec.CreatedAt
			for _, st := range steps {
				if st.other != nil {
					st.other(t, a, key, t0, o.unit)
				}
				now := t0.Add(units(st.at, o.unit))
				before := srv.CommandStats(t)
				got, err := b.Load(fresh(t), key, now, now.Add(idle))
				after := srv.CommandStats(t)
				// Each load script runs one GET, which Redis counts as well.
				evals := after["evalsha"] - before["evalsha"] + after["eval"] - before["eval"]
				gets := after["get"] - before["get"] - evals
				if gets != st.gets || evals != st.evals {
					t.Errorf("%s: commands got %d GET and %d scripts, want %d and %d", st.name, gets, evals, st.gets, st.evals)
				}
				if st.wantIdle < 0 {
					if !errors.Is(err, tether.ErrNotFound) {
						t.Errorf("%s: got %v, %v, want ErrNotFound", st.name, got, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: Load: %v", st.name, err)
				}
				want := t0.Add(idle + units(st.wantIdle, o.unit))
				if !got.IdleDeadline.Equal(want) {
					t.Errorf("%s: idle deadline got t0+%v, want t0+%v", st.name, got.IdleDeadline.Sub(t0), want.Sub(t0))
				}
				stored, err := a.Load(fresh(t), key, now, time.Time{})
				if err != nil {
					t.Fatalf("%s: Load on a: %v", st.name, err)
				}
				if !stored.IdleDeadline.Equal(got.IdleDeadline) {
					t.Errorf("%s: stored idle deadline got t0+%v, want t0+%v (what b returned)", st.name, stored.IdleDeadline.Sub(t0), want.Sub(t0))
				}
			}
		})
	}
}

// fresh is a context that skips the client-side cache.
func fresh(t *testing.T) context.Context { return tether.WithFreshRead(t.Context()) }

// units is n units of u, to the millisecond (the store's resolution).
func units(n float64, u time.Duration) time.Duration {
	return time.Duration(n * float64(u)).Truncate(time.Millisecond)
}

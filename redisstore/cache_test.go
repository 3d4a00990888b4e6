package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
	"github.com/tetherhq/tether/storetest"
)

// openCached returns a Store with the client-side cache on, on its own
// rueidis client to addr (one instance of a server).
func openCached(t *testing.T, addr, prefix string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	opts.Prefix = prefix
	s, c, err := redisstore.OpenRueidis(rueidis.ClientOption{InitAddress: []string{addr}}, opts)
	if err != nil {
		t.Fatalf("OpenRueidis: %v", err)
	}
	t.Cleanup(c.Close)
	if !s.CacheEnabled() {
		t.Fatal("CacheEnabled: got false, want true")
	}
	return s
}

// newSession creates an authenticated session through s, idle for 30
// minutes from now, and returns its key and record.
func newSession(t *testing.T, s tether.Store, user string) (string, *tether.Record) {
	t.Helper()
	now := time.Now().Truncate(time.Millisecond)
	rec := &tether.Record{
		UserID: user, CreatedAt: now, AuthenticatedAt: now,
		IdleDeadline: now.Add(30 * time.Minute), AbsoluteDeadline: now.Add(8 * time.Hour),
		Values: map[string]json.RawMessage{},
	}
	key := fmt.Sprintf("%064x", time.Now().UnixNano())
	if err := s.Create(t.Context(), key, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return key, rec
}

func TestConformanceRueidisCached(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	storetest.Run(t, func(t *testing.T) tether.Store {
		return openCached(t, srv.Addr, fmt.Sprintf("t%d:", prefixes.Add(1)), redisstore.Options{})
	})
}

func TestConformanceRueidisCluster(t *testing.T) {
	nodes := redistest.Cluster(t, 3)
	storetest.Run(t, func(t *testing.T) tether.Store {
		return openCached(t, nodes[0].Addr, fmt.Sprintf("t%d:", prefixes.Add(1)), redisstore.Options{})
	})
}

// A read of a session this instance did not just write is served from the
// cache: the first costs one command (the fetch), the next none, and none
// of them is the load script while the copy's deadline is within the slack.
func TestCachedLoadSendsNoCommand(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	b := openCached(t, srv.Addr, "p:", redisstore.Options{})
	key, rec := newSession(t, a, "u1")
	idle := 30 * time.Minute
	now := rec.CreatedAt

	if _, err := b.Load(t.Context(), key, now, now.Add(idle)); err != nil {
		t.Fatalf("first Load: %v", err)
	}
	before := srv.CommandStats(t)
	const reads = 200
	for i := range reads {
		got, err := b.Load(t.Context(), key, now, now.Add(idle))
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
		if !got.IdleDeadline.Equal(rec.IdleDeadline) {
			t.Fatalf("Load %d: idle deadline got %v, want %v", i, got.IdleDeadline, rec.IdleDeadline)
		}
	}
	after := srv.CommandStats(t)
	calls := 0
	for cmd, n := range after {
		if cmd != "info" {
			calls += n - before[cmd]
		}
	}
	if calls != 0 {
		t.Errorf("Redis commands for %d cached Loads: got %d (%v -> %v), want 0", reads, calls, before, after)
	}
	if st := b.CacheStats(); st.Hits < reads {
		t.Errorf("CacheStats.Hits: got %d, want at least %d", st.Hits, reads)
	}
}

// The idle deadline still moves in Redis: once the cached copy has fallen
// behind the wanted deadline by the slack (a minute of a 30-minute idle
// timeout), the load script runs and writes it, and that write invalidates
// the copy of every other instance.
func TestCachedLoadMovesDeadlineAfterSlack(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	b := openCached(t, srv.Addr, "p:", redisstore.Options{})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	key, rec := newSession(t, a, "u1")
	idle := 30 * time.Minute
	t0 := rec.CreatedAt
	// Warm both caches, then read on b at times inside and past the slack.
	for _, s := range []*redisstore.Store{a, b} {
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Load(t.Context(), key, t0, t0.Add(idle)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		at        time.Duration // now = t0 + at
		wantMoved bool
	}{
		{"within the slack: cached, not moved", 59 * time.Second, false},
		{"past the slack: moved in Redis", 61 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := t0.Add(tc.at)
			got, err := b.Load(t.Context(), key, now, now.Add(idle))
			if err != nil {
				t.Fatal(err)
			}
			want := rec.IdleDeadline
			if tc.wantMoved {
				want = now.Add(idle)
			}
			if !got.IdleDeadline.Equal(want) {
				t.Fatalf("returned idle deadline: got %v, want %v", got.IdleDeadline, want)
			}
			pexp, err := raw.PExpireTime(t.Context(), "p:s:"+key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if gotMS, wantMS := pexp.Milliseconds(), want.Add(redisstore.DefaultGrace).UnixMilli(); gotMS != wantMS {
				t.Fatalf("key expiry in Redis: got %d, want %d", gotMS, wantMS)
			}
		})
	}
	// a's copy was invalidated by b's write: a sees the moved deadline.
	moved := t0.Add(61 * time.Second).Add(idle)
	deadline := time.Now().Add(time.Second)
	for {
		got, err := a.Load(t.Context(), key, t0.Add(61*time.Second), t0.Add(61*time.Second).Add(idle))
		if err != nil {
			t.Fatal(err)
		}
		if got.IdleDeadline.Equal(moved) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance a still serves idle deadline %v after b moved it to %v", got.IdleDeadline, moved)
		}
		time.Sleep(time.Millisecond)
	}
}

// An expired cached copy is never served as live: the load script answers,
// with the record unchanged (so the caller reports the timeout).
func TestCachedLoadNeverServesExpired(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	b := openCached(t, srv.Addr, "p:", redisstore.Options{})
	key, rec := newSession(t, a, "u1")
	now := rec.CreatedAt
	if _, err := b.Load(t.Context(), key, now, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fresh := b.CacheStats().Fresh
	for _, at := range []time.Time{rec.IdleDeadline, rec.IdleDeadline.Add(time.Minute), rec.AbsoluteDeadline} {
		got, err := b.Load(t.Context(), key, at, at.Add(30*time.Minute))
		if err != nil {
			t.Fatalf("Load at %v: %v", at, err)
		}
		if expired, _ := got.ExpiredAt(at); !expired {
			t.Fatalf("Load at %v: got a live record (idle deadline %v), want the expired one", at, got.IdleDeadline)
		}
		if !got.IdleDeadline.Equal(rec.IdleDeadline) {
			t.Fatalf("Load at %v: idle deadline got %v, want %v (never extended)", at, got.IdleDeadline, rec.IdleDeadline)
		}
	}
	if got := b.CacheStats().Fresh - fresh; got != 3 {
		t.Errorf("Loads of an expired copy read from Redis: got %d, want 3", got)
	}
}

// tether.WithFreshRead always reads Redis: a session deleted on another
// instance is refused at once, though this instance still holds a copy.
func TestFreshReadBypassesCache(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	b := openCached(t, srv.Addr, "p:", redisstore.Options{CacheTTL: time.Hour})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	const trials = 200
	fresh := b.CacheStats().Fresh
	for i := range trials {
		key, rec := newSession(t, a, "u1")
		now := rec.CreatedAt
		if _, err := b.Load(t.Context(), key, now, now.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := raw.Del(t.Context(), "p:s:"+key).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := b.Load(tether.WithFreshRead(t.Context()), key, now, now.Add(30*time.Minute))
		if !errors.Is(err, tether.ErrNotFound) {
			t.Fatalf("trial %d: fresh Load after a DEL elsewhere: got %v, want ErrNotFound", i, err)
		}
	}
	// The DEL's invalidation may reach b before its Load, so ErrNotFound
	// alone does not show that the cache was bypassed; the count does
	// (the warming Loads are misses, never fresh).
	if got := b.CacheStats().Fresh - fresh; got != trials {
		t.Errorf("Loads read from Redis: got %d, want %d (one per WithFreshRead Load)", got, trials)
	}
}

// loadUntilRefused polls s.Load of key every millisecond until it no
// longer returns a live record (ErrNotFound or an error), and returns how
// long that took; it fails the test past limit.
func loadUntilRefused(t *testing.T, s *redisstore.Store, key string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		now := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		_, err := s.Load(ctx, key, now, now.Add(30*time.Minute))
		cancel()
		if err != nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("session still served %v after it was deleted, want refused within %v", time.Since(start), limit)
		}
		time.Sleep(time.Millisecond)
	}
}

package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/internal/testenv/tcpproxy"
	"github.com/tetherhq/tether/redisstore"
)

// What the client-side cache must never do (issue 13, point 2), each
// against a real redis-server.

// A write by this instance is never hidden from its own next read. Redis
// may deliver the invalidation of a write after the write's reply, on
// another connection, so a read right after a write could meet the copy
// cached before it; for CacheTTL after its own write the store reads the
// key from Redis, not from the cache. Hundreds of write-then-read rounds,
// most starting with a warm copy (the previous write's mark is left to
// lapse first): read at once (the copy is the old one, or being replaced),
// and read a few milliseconds later, still within the mark.
func TestCachedOwnWriteNeverHidden(t *testing.T) {
	cases := []struct {
		name       string
		ttl        time.Duration
		rounds     int
		lapseEvery int           // every lapseEvery rounds, wait for the marks to lapse
		pause      time.Duration // between the write and the read, every third round
	}{
		{"read at once", 5 * time.Millisecond, 600, 2, 0},
		{"read 4 ms after every third write", 6 * time.Millisecond, 300, 2, 4 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ownWriteRounds(t, tc.ttl, tc.rounds, tc.lapseEvery, tc.pause)
		})
	}
}

func ownWriteRounds(t *testing.T, ttl time.Duration, rounds, lapseEvery int, pause time.Duration) {
	srv := redistest.Start(t, redistest.Config{})
	s := openCached(t, srv.Addr, "p:", redisstore.Options{CacheTTL: ttl})
	ctx := t.Context()
	key, rec := newSession(t, s, "u1")
	now := rec.CreatedAt
	idle := now.Add(30 * time.Minute)
	stale, n := 0, 0 // n: increments since the record was last created
	afterWrite := func(i int) {
		if pause > 0 && i%3 == 0 {
			time.Sleep(pause)
		}
	}
	for i := 1; i <= rounds; i++ {
		if i%lapseEvery == 0 {
			time.Sleep(2 * ttl) // let the mark lapse: the next read uses the cache
		}
		if _, err := s.Load(ctx, key, now, idle); err != nil { // warm (or hit) the cache
			t.Fatalf("round %d: Load before the write: %v", i, err)
		}
		switch i % 10 {
		case 0: // delete, read, create again, read
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			afterWrite(i)
			if _, err := s.Load(ctx, key, now, idle); !errors.Is(err, tether.ErrNotFound) {
				stale++
				t.Errorf("round %d: Load after Delete: got %v, want ErrNotFound", i, err)
			}
			if err := s.Create(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			n = 0
			afterWrite(i)
			if _, err := s.Load(ctx, key, now, idle); err != nil {
				stale++
				t.Errorf("round %d: Load after Create: got %v, want the record", i, err)
			}
		default: // increment, read
			if _, err := s.Update(ctx, key, now, &tether.Patch{Incr: map[string]int64{"n": 1}}); err != nil {
				t.Fatal(err)
			}
			n++
			afterWrite(i)
			got, err := s.Load(ctx, key, now, idle)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := string(got.Values["n"]), strconv.Itoa(n); g != w {
				stale++
				t.Errorf("round %d: Load after Update: n got %q, want %q", i, g, w)
			}
		}
		if stale > 5 {
			t.Fatalf("stopping after %d stale reads", stale)
		}
	}
	st := s.CacheStats()
	t.Logf("%d rounds: %d reads from the cache with no command, %d fetched into it, %d from Redis", rounds, st.Hits, st.Misses, st.Fresh)
	if st.Hits+st.Misses == 0 {
		t.Errorf("reads served through the cache: got 0, want some (else every read went to Redis and the rounds prove nothing about cached copies)")
	}
}

// When the tracking connection is lost (CLIENT KILL) or Redis restarts,
// the invalidations sent meanwhile are lost with it; rueidis drops the
// connection's cache, so no read is served from it afterwards. 50 trials
// each: warm, kill, delete elsewhere, read at once.
func TestCacheDroppedOnConnectionLoss(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	// The writer is on go-redis, which retries a command that meets a
	// killed connection; b is the cached instance under test.
	a, err := redisstore.New(admin, redisstore.Options{Prefix: "p:"})
	if err != nil {
		t.Fatal(err)
	}
	b := openCached(t, srv.Addr, "p:", redisstore.Options{CacheTTL: time.Hour})
	ctx := t.Context()

	t.Run("CLIENT KILL", func(t *testing.T) {
		for trial := range 50 {
			key, rec := newSession(t, a, "u1")
			now := rec.CreatedAt
			if _, err := b.Load(ctx, key, now, now.Add(30*time.Minute)); err != nil {
				t.Fatalf("trial %d: warm: %v", trial, err)
			}
			// Every client but admin's own connection: b's tracking one too.
			if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.Del(ctx, "p:s:"+key).Err(); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Load(ctx, key, now, now.Add(30*time.Minute)); err == nil {
				t.Fatalf("trial %d: Load after the connection was killed and the session deleted: got a live record (user %q), want ErrNotFound or an error", trial, got.UserID)
			}
		}
	})
	t.Run("restart", func(t *testing.T) {
		key, rec := newSession(t, a, "u1")
		now := rec.CreatedAt
		if _, err := b.Load(ctx, key, now, now.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		srv.Kill()
		srv.Restart() // no persistence: the session is gone
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := b.Load(ctx, key, now, now.Add(30*time.Minute))
			if errors.Is(err, tether.ErrNotFound) {
				break
			}
			if err == nil {
				t.Fatal("Load after a restart of Redis: got the cached record, want ErrNotFound")
			}
			if time.Now().After(deadline) { // still reconnecting
				t.Fatalf("Load after a restart: %v for 5s, want ErrNotFound once reconnected", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// A half-open connection (the proxy stops forwarding without closing, so
// no invalidation arrives and no error either) serves a deleted session for
// at most 2 s: the cached copy's client-side TTL (Options.CacheTTL, 1 s by
// default) ends it, and the fetch that follows cannot get an answer.
func TestCacheHalfOpenBound(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	var worst time.Duration
	for trial := range 3 {
		proxy := tcpproxy.Start(t, srv.Addr)
		b, c, err := redisstore.OpenRueidis(rueidis.ClientOption{InitAddress: []string{proxy.Addr}}, redisstore.Options{Prefix: "p:"})
		if err != nil {
			t.Fatal(err)
		}
		key, rec := newSession(t, a, "u1")
		now := rec.CreatedAt
		for range 2 { // a miss that fills the cache, then a hit
			if _, err := b.Load(t.Context(), key, now, now.Add(30*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if got := b.CacheStats().Hits; got == 0 {
			t.Fatalf("trial %d: cache hits before the stall: got 0, want the copy served from the cache (else the bound proves nothing)", trial)
		}
		proxy.Stall()
		if err := admin.Del(t.Context(), "p:s:"+key).Err(); err != nil {
			t.Fatal(err)
		}
		d := loadUntilRefused(t, b, key, 2*time.Second)
		t.Logf("trial %d: deleted session served for %v over a half-open connection", trial, d.Round(time.Millisecond))
		worst = max(worst, d)
		proxy.Close()
		c.Close()
	}
	t.Logf("worst of 3: %v (bound 2s)", worst.Round(time.Millisecond))
}

// Revocations end in a write or UNLINK of each session key, so Redis
// invalidates every instance's copy: the other instance refuses the
// sessions without waiting for a TTL (here the TTL is an hour). DeleteUser
// is "log out everywhere", an administrator's revoke, a password change,
// disabling an account; DeleteAll is DELETE /admin/sessions.
func TestCachedRevocationInvalidates(t *testing.T) {
	cases := []struct {
		name   string
		users  []string
		revoke func(ctx context.Context, s *redisstore.Store) (int, error)
	}{
		{"DeleteUser", []string{"u7", "u7", "u7"}, func(ctx context.Context, s *redisstore.Store) (int, error) {
			return s.DeleteUser(ctx, "u7")
		}},
		{"DeleteAll", []string{"u1", "u2", ""}, func(ctx context.Context, s *redisstore.Store) (int, error) {
			return s.DeleteAll(ctx)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Config{})
			a := openCached(t, srv.Addr, "p:", redisstore.Options{})
			b := openCached(t, srv.Addr, "p:", redisstore.Options{CacheTTL: time.Hour})
			ctx := t.Context()
			var keys []string
			for _, user := range tc.users {
				key, rec := newSession(t, a, user)
				keys = append(keys, key)
				if _, err := b.Load(ctx, key, rec.CreatedAt, rec.CreatedAt.Add(30*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := tc.revoke(ctx, a); err != nil || n != len(keys) {
				t.Fatalf("revoke: got %d, %v, want %d, nil", n, err, len(keys))
			}
			for _, key := range keys {
				d := loadUntilRefused(t, b, key, 500*time.Millisecond)
				t.Logf("refused on the other instance %v after the revocation returned", d)
			}
			if got := b.CacheStats().Invalidations; got < uint64(len(keys)) {
				t.Errorf("CacheStats.Invalidations: got %d, want at least %d", got, len(keys))
			}
		})
	}
}

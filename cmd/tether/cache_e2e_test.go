package main

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/internal/testenv/tcpproxy"
)

// With REDIS_CLIENT_CACHE on (the default), GET /profile at steady state
// costs no Redis command, and /metrics counts the cache's reads; with off,
// every GET /profile is one command, a plain GET while the session is busy
// (issue 13).
func TestRedisClientCacheCommandsPerRequest(t *testing.T) {
	cases := []struct {
		mode     string
		wantHits bool
	}{
		{"on", true},
		{"off", false},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Config{})
			in := start(t, t.TempDir(), redisEnv("redis://"+srv.Addr, "REDIS_CLIENT_CACHE", tc.mode))
			c := in.client()
			expect(t, "login", c.login("alice", "correct-horse"), 200, "")
			// An instance reads a session it wrote from Redis for 1 s (the
			// login, the first request's "last seen"); then the cache
			// serves it. Warm up past that.
			for range 2 {
				time.Sleep(1100 * time.Millisecond)
				expect(t, "warm-up profile", c.get("/profile"), 200, "")
			}
			before := srv.CommandStats(t)
			const n = 50
			for range n {
				expect(t, "profile", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
			}
			after := srv.CommandStats(t)
			calls := 0
			for cmd, v := range after {
				if cmd != "info" {
					calls += v - before[cmd]
				}
			}
			t.Logf("REDIS_CLIENT_CACHE=%s: %d Redis commands for %d GET /profile (%v -> %v)", tc.mode, calls, n, before, after)
			if tc.wantHits && calls != 0 {
				t.Errorf("Redis commands for %d cached GET /profile: got %d (%v), want 0", n, calls, after)
			}
			if !tc.wantHits {
				// Without the cache: a plain GET per read of this busy
				// session, the load script at most once (its deadline moves
				// once a second), on a client that never asked Redis to
				// track keys.
				gets, scripts := after["get"]-before["get"], after["evalsha"]-before["evalsha"]
				if gets-scripts < n-1 || scripts > 1 {
					t.Errorf("commands for %d GET /profile without the cache: got %d GET and %d EVALSHA (%v), want a GET each and at most one script", n, gets, scripts, after)
				}
				if tr := after["client|tracking"]; tr != 0 {
					t.Errorf("CLIENT TRACKING with the cache off: got %d calls, want 0", tr)
				}
			} else if after["client|tracking"] == 0 {
				t.Errorf("CLIENT TRACKING with the cache on: got 0 calls, want the session client to enable it")
			}
			metrics := c.get("/metrics").body
			m := regexp.MustCompile(`tether_session_cache_reads_total\{result="hit"\} (\d+)`).FindStringSubmatch(metrics)
			switch {
			case tc.wantHits && (m == nil || m[1] == "0"):
				t.Errorf("/metrics: got %v for the hit counter, want a positive tether_session_cache_reads_total{result=\"hit\"}", m)
			case tc.wantHits:
				if hits, _ := strconv.Atoi(m[1]); hits < n {
					t.Errorf("cache hits in /metrics: got %d, want at least %d", hits, n)
				}
			case m != nil:
				t.Errorf("/metrics with the cache off: got %q, want no cache counters", m[0])
			}
		})
	}
}

// The reference server's sensitive routes read the session from Redis even
// on GET: instance B reaches Redis through a proxy that stalls once B's
// cache is warm; GET /profile is still answered from the cache, GET /login
// (which reads the session to redirect a signed-in user) and GET /sessions
// are not (503: Redis unreachable), so a change made elsewhere can never be
// hidden from them.
func TestRedisClientCacheSensitiveRoutesReadFresh(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	proxy := tcpproxy.Start(t, srv.Addr)
	a := start(t, t.TempDir(), redisEnv("redis://"+srv.Addr))
	b := start(t, t.TempDir(), redisEnv("redis://"+proxy.Addr))
	ca := a.client()
	expect(t, "login on A", ca.login("alice", "correct-horse"), 200, "")
	cb := b.client()
	cb.setSID(ca.sid())
	cb.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// B's first request writes "last seen", which B then reads fresh for
	// 1 s; after that its reads come from the cache.
	expect(t, "profile on B", cb.get("/profile"), 200, "")
	time.Sleep(1100 * time.Millisecond)
	expect(t, "profile on B (fetch into the cache)", cb.get("/profile"), 200, "")
	proxy.Stall()
	defer proxy.Resume()
	expect(t, "profile on B, Redis unreachable: cached", cb.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	for _, path := range []string{"/login", "/sessions"} {
		if r := cb.get(path); r.status != 503 {
			t.Errorf("GET %s on B, Redis unreachable: got %d %s, want 503 (read fresh, not from the cache)", path, r.status, r.body)
		}
	}
}

// freshRead names exactly the sensitive paths and what is below them.
func TestFreshReadRoutes(t *testing.T) {
	cases := []struct {
		path string
		want bool
	}{
		{"/password", true}, {"/reauth", true}, {"/sessions", true}, {"/sessions/abc", true},
		{"/admin", true}, {"/admin/users/alice/sessions", true}, {"/dbsc/refresh", true}, {"/dbsc/register", true},
		{"/login", true}, {"/logout", true},
		{"/profile", false}, {"/views", false}, {"/", false}, {"/sessionsx", false}, {"/administrator", false}, {"/static/app.css", false},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://x"+tc.path, nil)
			if got := freshRead(r); got != tc.want {
				t.Fatalf("freshRead(%s): got %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/redistest"
)

func TestTwoInstancesShareRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	url := "redis://" + srv.Addr
	a := start(t, t.TempDir(), redisEnv(url))
	b := start(t, t.TempDir(), redisEnv(url))

	ca := a.client()
	expect(t, "login on A", ca.login("alice", "correct-horse"), 200, "")
	sid := ca.sid()
	cb := b.client()
	cb.setSID(sid)
	expect(t, "profile on B", cb.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	expect(t, "views on B", cb.get("/views"), 200, `{"views":1}`)
	expect(t, "views on A", ca.get("/views"), 200, `{"views":2}`)
	expect(t, "logout on B", cb.do("POST", "/logout", "", ""), 200, `{"ok":true}`)
	again := a.client()
	again.setSID(sid)
	expect(t, "old cookie on A after logout on B", again.get("/profile"), 401, `{"error":"Not authenticated"}`)
}

// Guarantee 3 (DESIGN): 200 concurrent GET /views on one cookie end at +200.
func TestConcurrentViews(t *testing.T) {
	for name, mk := range deployments {
		t.Run(name, func(t *testing.T) {
			in := start(t, t.TempDir(), mk(t))
			c := in.client()
			expect(t, "first view", c.get("/views"), 200, `{"views":1}`)
			sid := c.sid()
			var wg sync.WaitGroup
			errs := make(chan string, 200)
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cc := in.client()
					cc.setSID(sid)
					if r := cc.get("/views"); r.status != 200 {
						errs <- fmt.Sprintf("%d %s", r.status, r.body)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatalf("concurrent /views: %s", e)
			}
			expect(t, "after 1 + 200 concurrent views", c.get("/views"), 200, `{"views":202}`)
		})
	}
}

// Guarantee 2 (DESIGN): a logout racing in-flight modifying requests is
// never undone by them. 30 trials of a logout against 10 concurrent
// /views and /csrf-token requests on the same cookie.
func TestLogoutRacingInflightRequests(t *testing.T) {
	for name, mk := range deployments {
		t.Run(name, func(t *testing.T) {
			in := start(t, t.TempDir(), mk(t))
			for trial := 0; trial < 30; trial++ {
				c := in.client()
				expect(t, "login", c.login("alice", "correct-horse"), 200, "")
				sid := c.sid()
				var wg sync.WaitGroup
				go1 := make(chan struct{})
				for i := 0; i < 10; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						cc := in.client()
						cc.setSID(sid)
						<-go1
						path := "/views"
						if i%2 == 1 {
							path = "/csrf-token"
						}
						r := cc.get(path)
						if r.status >= 500 {
							t.Errorf("in-flight %s: got %d %s", path, r.status, r.body)
						}
					}(i)
				}
				close(go1)
				expect(t, "logout", c.do("POST", "/logout", "", ""), 200, "")
				wg.Wait()
				after := in.client()
				after.setSID(sid)
				if r := after.get("/profile"); r.status != 401 {
					t.Fatalf("trial %d: old cookie after logout raced 10 requests: got %d %s, want 401", trial+1, r.status, r.body)
				}
			}
		})
	}
}

func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	in := start(t, t.TempDir(), redisEnv("redis://"+srv.Addr))
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	expect(t, "ready", c.get("/readyz"), 200, "")

	outage := func(what string) {
		t.Helper()
		began := time.Now()
		r := c.get("/profile")
		took := time.Since(began)
		if r.status != 503 || r.body != `{"error":"Session store unavailable"}` {
			t.Fatalf("%s: /profile got %d %s, want 503 {\"error\":\"Session store unavailable\"}", what, r.status, r.body)
		}
		if took > 5*time.Second {
			t.Fatalf("%s: /profile took %v, want an answer within the 3s store timeout", what, took)
		}
		if r := c.get("/readyz"); r.status != 503 {
			t.Fatalf("%s: /readyz got %d, want 503", what, r.status)
		}
		t.Logf("%s: 503 after %v", what, took.Round(time.Millisecond))
	}
	waitReady := func(what string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); ; {
			if r := c.get("/readyz"); r.status == 200 {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("%s: /readyz not 200 within 10s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	srv.Pause()
	outage("Redis stopped (SIGSTOP)")
	srv.Resume()
	waitReady("after SIGCONT")
	expect(t, "profile after SIGCONT: still logged in", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)

	srv.Kill()
	outage("Redis killed")
	srv.Restart()
	waitReady("after restart on the same port")
	// The restarted Redis kept nothing on disk, so the session is gone: that
	// is a real logout now, and a new login works.
	expect(t, "profile after restart", c.get("/profile"), 401, "")
	expect(t, "login after restart", c.login("alice", "correct-horse"), 200, "")
	expect(t, "profile after new login", c.get("/profile"), 200, "")
	in.stop()
	// go-redis's own complaints (failed dials) reach the server's log as
	// slog lines, not as raw lines of its own format on the process's stderr.
	if !strings.Contains(in.stderr.String(), `level=WARN msg="redis client" detail="connection pool: failed to dial`) {
		t.Fatalf("no routed go-redis line in the server's log:\n%s", in.stderr)
	}
}

func TestRedisUnreachableAtStart(t *testing.T) {
	port := redistest.FreePort(t)
	unreachableAtStart(t, "REDIS_URL", fmt.Sprintf("redis://tether:%s@127.0.0.1:%%d", unreachablePassword), port,
		fmt.Sprintf("cannot reach Redis at 127.0.0.1:%d (REDIS_URL): connection refused; check that Redis is running there, "+
			"and REDIS_URL's scheme (redis://, or rediss:// for TLS), user and password", port))
}

func TestRedisClusterEndToEnd(t *testing.T) {
	nodes := redistest.Cluster(t, 3)
	url := "redis://" + nodes[0].Addr + "?addr=" + nodes[1].Addr + "&addr=" + nodes[2].Addr
	in := start(t, t.TempDir(), redisEnv(url))
	var sids []string
	for i := 0; i < 6; i++ { // several sessions, spread over the slots
		c := in.client()
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		expect(t, "views", c.get("/views"), 200, `{"views":1}`)
		expect(t, "profile", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
		sids = append(sids, c.sid())
	}
	c := in.client()
	c.setSID(sids[0])
	expect(t, "logout", c.do("POST", "/logout", "", ""), 200, "")
	expect(t, "after logout", c.get("/profile"), 401, "")
	other := in.client()
	other.setSID(sids[1])
	expect(t, "another session survives", other.get("/profile"), 200, "")
}

func TestRedisTLSWithACLUser(t *testing.T) {
	files := redistest.GenerateTLS(t)
	srv := redistest.Start(t, redistest.Config{TLS: files, Lines: []string{
		"user default off", "user tether on >tls-pass-123 ~* &* +@all",
	}})
	url := "rediss://tether:tls-pass-123@" + srv.Addr
	in := start(t, t.TempDir(), redisEnv(url, "REDIS_CA_CERT", files.CA))
	c := in.client()
	expect(t, "login over rediss://", c.login("alice", "correct-horse"), 200, "")
	expect(t, "profile", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	if strings.Contains(in.stderr.String()+in.events.String(), "tls-pass-123") {
		t.Fatal("the Redis password was printed")
	}
	var ready map[string]string
	_ = json.Unmarshal([]byte(c.get("/readyz").body), &ready)
	if ready["status"] != "ready" {
		t.Fatalf("readyz over TLS: got %v", ready)
	}
}

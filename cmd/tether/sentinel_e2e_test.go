package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether/internal/testenv/redistest"
)

// outcome is one request of the failover load: when it was sent, how long
// it took, and its status (0 with err set when no response came).
type outcome struct {
	at     time.Time
	took   time.Duration
	path   string
	status int
	err    error
}

// TestRedisSentinelFailover is issue 12 deliverable 3: tether on a Sentinel
// set (master, replica, three sentinels; REDIS_URL in the Sentinel form)
// under steady load, the master killed with SIGKILL. It checks that every
// request got an answer, that no answer was a 500 (or any 5xx but 503),
// that the 503s stop by themselves once Sentinel promotes the replica, and
// that sessions written before the failover, with WAIT confirming the
// replica had them, still work after it. It logs how long requests got 503.
func TestRedisSentinelFailover(t *testing.T) {
	sn := redistest.StartSentinel(t)
	in := start(t, t.TempDir(), redisEnv(sn.URL(), "SESSION_MAX_PER_USER", "100"))

	// Sessions written before the failover: logins, then WAIT. WAIT only
	// covers the writes of the connection that sends it, so the test writes
	// a marker on its own connection after every login has been answered:
	// the replication stream is ordered, so a replica that acknowledged the
	// marker holds every session written before it.
	const preSessions = 20
	var pre []*client
	for range preSessions {
		c := in.client()
		expect(t, "login before the failover", c.login("alice", "correct-horse"), 200, "")
		pre = append(pre, c)
	}
	const workers = 4
	var load []*client
	for range workers {
		c := in.client()
		expect(t, "login of a load client", c.login("alice", "correct-horse"), 200, "")
		load = append(load, c)
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: sn.Master.Addr})
	defer rdb.Close()
	if err := rdb.Set(ctx, "failover-test:wait-marker", "1", 0).Err(); err != nil {
		t.Fatalf("marker write on the master: %v", err)
	}
	if n, err := rdb.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 5000 on the master: got %d, %v; want 1 replica to acknowledge", n, err)
	}
	rdb.Close()

	// Steady, bounded load: each worker sends one request at a time, with a
	// pause, alternating a read (GET /profile) and a write (GET /views).
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i, c := range load {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				path := "/profile"
				if n%2 == 1 {
					path = "/views"
				}
				o := outcome{at: time.Now(), path: path}
				resp, err := c.hc.Get(c.in.base + path)
				o.took = time.Since(o.at)
				if err != nil {
					o.err = err
				} else {
					o.status = resp.StatusCode
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}

	time.Sleep(2 * time.Second) // steady state before the fault
	killed := time.Now()
	sn.Master.Kill()
	promoted := time.Time{}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if sn.MasterAddr() == sn.Replica.Addr {
			promoted = time.Now()
			break
		}
	}
	if promoted.IsZero() {
		close(stop)
		wg.Wait()
		t.Fatalf("Sentinel did not promote the replica %s within 30s of the master's death; sentinels report %q", sn.Replica.Addr, sn.MasterAddr())
	}
	// Keep the load on until requests have succeeded for a while after the
	// promotion, so the test sees the recovery, not just the outage.
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()

	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].at.Before(outcomes[j].at) })
	byStatus := map[int]int{}
	var first503, last503End time.Time
	var slowest time.Duration
	for _, o := range outcomes {
		if o.err != nil {
			t.Errorf("%s sent %v after the kill: no response: %v", o.path, o.at.Sub(killed).Round(time.Millisecond), o.err)
			continue
		}
		byStatus[o.status]++
		slowest = max(slowest, o.took)
		switch {
		case o.status == 503:
			if first503.IsZero() {
				first503 = o.at
			}
			last503End = o.at.Add(o.took)
		case o.status >= 500:
			t.Errorf("%s at %v after the kill: got %d, want 200 or 503 (never a 500)", o.path, o.at.Sub(killed).Round(time.Millisecond), o.status)
		case o.status != 200:
			t.Errorf("%s at %v after the kill: got %d, want 200 or 503 (a session lost in the failover?)", o.path, o.at.Sub(killed).Round(time.Millisecond), o.status)
		}
	}
	t.Logf("failover: %d requests by status %v; Sentinel promoted the replica %v after the SIGKILL; slowest answer %v",
		len(outcomes), byStatus, promoted.Sub(killed).Round(time.Millisecond), slowest.Round(time.Millisecond))
	if first503.IsZero() {
		t.Logf("failover: no request got 503")
	} else {
		t.Logf("failover: 503s from %v to %v after the SIGKILL: requests got 503 for %v",
			first503.Sub(killed).Round(time.Millisecond), last503End.Sub(killed).Round(time.Millisecond),
			last503End.Sub(first503).Round(time.Millisecond))
	}
	// Recovery: the last second of load answered 200 only.
	tail := outcomes[len(outcomes)-1].at.Add(-time.Second)
	for _, o := range outcomes {
		if o.at.After(tail) && o.status != 200 {
			t.Errorf("%s in the last second of load (%v after the kill): got %d, want 200 once the replica is promoted",
				o.path, o.at.Sub(killed).Round(time.Millisecond), o.status)
		}
	}
	if byStatus[200] == 0 {
		t.Fatalf("no request succeeded: the load did not run")
	}

	for i, c := range pre {
		expect(t, fmt.Sprintf("session %d of %d written before the failover (WAIT satisfied), after it", i+1, preSessions),
			c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	}
	if r := in.client().get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("/readyz after the failover: got %d %s, want 200", r.status, r.body)
	}
}

// TestRedisMinReplicasRefusal is the mitigation that README "Failover" gives
// for what an asynchronous failover can lose: with min-replicas-to-write on
// the master, Redis refuses writes while no replica is connected, and
// tether must turn that refusal (NOREPLICAS) into 503, never a 500 and
// never a session that seems to exist but was not written (issue 12
// deliverable 3).
func TestRedisMinReplicasRefusal(t *testing.T) {
	master := redistest.Start(t, redistest.Config{Lines: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"}})
	replica := redistest.Start(t, redistest.Config{Lines: []string{"replicaof 127.0.0.1 " + fmt.Sprint(master.Port)}})
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer rdb.Close()
	waitWritable := func() {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if rdb.Set(ctx, "min-replicas-test", "1", 0).Err() == nil {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("the master did not accept writes within 20s of its replica connecting")
			}
		}
	}
	waitWritable()
	in := start(t, t.TempDir(), redisEnv("redis://"+master.Addr))
	c := in.client()
	expect(t, "login with the replica connected", c.login("alice", "correct-horse"), 200, "")

	replica.Kill()
	for end := time.Now().Add(20 * time.Second); rdb.Set(ctx, "min-replicas-test", "1", 0).Err() == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the master still accepts writes 20s after its only replica died")
		}
	}
	expect(t, "login with no replica: the write is refused", in.client().login("alice", "correct-horse"),
		503, `{"error":"Login temporarily unavailable"}`)
	expect(t, "a cookieless GET /views with no replica: the new session is refused", in.client().get("/views"),
		503, `{"error":"Session store unavailable"}`)
	if r := c.get("/views"); r.status != 503 {
		t.Fatalf("GET /views on a live session with no replica: got %d %s, want 503 (the increment is a write)", r.status, r.body)
	}

	replica.Restart()
	waitWritable()
	expect(t, "GET /views once a replica is back", c.get("/views"), 200, `{"views":1}`)
}

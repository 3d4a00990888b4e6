package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type floodConfig struct {
	cookieless, forged, logins, conc int
	tether                           string
	race                             bool
	work                             string
	env                              []string // extra NAME=VALUE for tether
}

// floodTarget is one tether instance on a Redis that keeps nothing on disk.
type floodTarget struct {
	t     *proc
	base  string
	redis *redis.Client
}

func startFloodTarget(cfg floodConfig, stdout io.Writer) (*floodTarget, func(), error) {
	bin := cfg.tether
	if bin == "" {
		fmt.Fprintf(stdout, "building ./cmd/tether (race=%v)\n", cfg.race)
		var err error
		if bin, err = buildTether(cfg.work, cfg.race); err != nil {
			return nil, nil, err
		}
	}
	rport, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	raddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(rport))
	rp, err := newRedis(cfg.work, rport, false)
	if err != nil {
		return nil, nil, err
	}
	if err := rp.start(dialReady(raddr)); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		rp.stop(syscall.SIGKILL)
		return nil, nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	ft := &floodTarget{base: "http://127.0.0.1:" + strconv.Itoa(port), redis: redis.NewClient(&redis.Options{Addr: raddr})}
	ft.t, err = newTether(cfg.work, bin, "tether", port, append([]string{
		"REDIS_URL=redis://" + raddr, "SESSION_SECRET=" + fmt.Sprintf("%x", secret),
		// The flood is its own proxy: X-Forwarded-For from loopback is
		// believed, so the spread login burst can come from many clients.
		"TRUST_PROXY=127.0.0.1",
	}, cfg.env...))
	if err == nil {
		err = ft.t.start(httpReady(ft.base + "/healthz"))
	}
	cleanup := func() {
		if ft.t != nil {
			ft.t.stop(syscall.SIGTERM)
		}
		ft.redis.Close()
		rp.stop(syscall.SIGKILL)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return ft, cleanup, nil
}

// snapshot is the instance's and the store's state between floods.
type snapshot struct {
	rss               float64 // /proc
	heap, gors        float64 // /metrics: go_memstats_heap_inuse_bytes, go_goroutines
	storeCalls        float64 // every tether_store_duration_seconds_count
	creates, rejected float64
	hashes            float64 // tether_password_hashes_total
	keys, redisMem    int64   // DBSIZE, INFO memory used_memory
}

func (ft *floodTarget) snapshot(ctx context.Context) (snapshot, error) {
	m, err := scrape(ft.base + "/metrics")
	if err != nil {
		return snapshot{}, err
	}
	s := snapshot{
		rss: float64(procRSS(ft.t.pid())), heap: m.sum("go_memstats_heap_inuse_bytes"), gors: m.sum("go_goroutines"),
		storeCalls: m.sum("tether_store_duration_seconds_count"),
		creates:    m.sum("tether_store_duration_seconds_count", `op="create"`),
		rejected:   m.sum("tether_security_events_total", `event="session_rejected"`),
		hashes:     m.sum("tether_password_hashes_total"),
	}
	if s.keys, err = ft.redis.DBSize(ctx).Result(); err != nil {
		return s, err
	}
	info, err := ft.redis.Info(ctx, "memory").Result()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			s.redisMem, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return s, err
}

func (s snapshot) String() string {
	return fmt.Sprintf("RSS %s, Go heap in use %s, %.0f goroutines; Redis %d keys, used_memory %s",
		mib(s.rss), mib(s.heap), s.gors, s.keys, mib(float64(s.redisMem)))
}

// blast sends n requests from conc clients, each built by mk(i), and
// counts the answers by status (0: no response). It stops early when ctx
// ends. peakRSS is the highest RSS of pid sampled every 100 ms meanwhile.
func blast(ctx context.Context, n, conc int, timeout time.Duration, pid int, mk func(i int) *http.Request) (counts map[int]int, peakRSS float64, took time.Duration) {
	counts = map[int]int{}
	var mu sync.Mutex
	var next atomic.Int64
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: 0}}
	var peak atomic.Int64
	sampleDone := make(chan struct{})
	stopSample := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := procRSS(pid); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stopSample:
				return
			case <-t.C:
			}
		}
	}()
	began := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				st := 0
				if resp, err := hc.Do(mk(i).WithContext(ctx)); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					st = resp.StatusCode
				}
				mu.Lock()
				counts[st]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took = time.Since(began)
	close(stopSample)
	<-sampleDone
	hc.CloseIdleConnections()
	return counts, float64(peak.Load()), took
}

// forgedCookie is a well-formed session cookie whose signature is random:
// it must fail verification without a store call.
func forgedCookie() string {
	tok, sig := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(tok)
	_, _ = rand.Read(sig)
	return base64.RawURLEncoding.EncodeToString(tok) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func fiveXX(counts map[int]int) (n int) {
	for st, c := range counts {
		if st == 0 || st >= 500 {
			n += c
		}
	}
	return n
}

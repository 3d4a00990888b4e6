package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// workload drives the soak's traffic through the proxy: logged-in users
// reading GET /profile, one counter session driven with GET /views, and a
// trickle of cookieless GET /views that each create an anonymous session.
type workload struct {
	base  string
	tr    *http.Transport
	users []*http.Client // each with a cookie jar, logged in as alice
	ctr   *http.Client   // the counter session's client
	anon  *http.Client   // no jar: every request is cookieless
	rec   *recorder

	// Counter bookkeeping: every 200 answer's value, and how many
	// increments ended without a clear answer (503, proxy 502, no response:
	// each may or may not have counted).
	ctrMu        sync.Mutex
	ctrValues    map[int64]int
	ctrOK        int64
	ctrAmbiguous int64

	anonCreated atomic.Int64 // anonymous sessions the server answered 200 to
	anonMu      sync.Mutex
	anonTimes   []time.Time // when each was made
	relogins    atomic.Int64
}

// request kinds, for the recorder.
const (
	kindProfile = iota
	kindCounter
	kindAnon
	kindLogin
)

var kindNames = [...]string{"profile", "counter", "anon", "login"}

func newWorkload(base string, users int, rec *recorder) (*workload, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: 10 * time.Second}
	w := &workload{base: base, tr: tr, rec: rec, ctrValues: map[int64]int{}}
	mk := func(withJar bool) *http.Client {
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		if withJar {
			c.Jar, _ = cookiejar.New(nil)
		}
		return c
	}
	for range users {
		c := mk(true)
		if st := w.login(c); st != 200 {
			return nil, fmt.Errorf("login of a soak user through the proxy: got %d, want 200", st)
		}
		w.users = append(w.users, c)
	}
	// The counter's session exists before requests share it: concurrent
	// first requests without its cookie would each start a session.
	w.ctr, w.anon = mk(true), mk(false)
	if w.increment(); w.ctrOK != 1 {
		return nil, fmt.Errorf("first GET /views of the counter session through the proxy failed")
	}
	return w, nil
}

// login signs c in as the demo user and returns the status.
func (w *workload) login(c *http.Client) int {
	st, _, _ := w.do(c, kindLogin, "POST", "/login", `{"username":"alice","password":"correct-horse"}`)
	return st
}

// do sends one request and records it; status 0 means no response.
func (w *workload) do(c *http.Client, kind int, method, path, body string) (int, []byte, bool) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, w.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	began := time.Now()
	resp, err := c.Do(req)
	status, fromProxy := 0, false
	var b []byte
	if err == nil {
		b, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		status, fromProxy = resp.StatusCode, resp.Header.Get("X-Soak-Proxy") != ""
	}
	w.rec.add(began, time.Since(began), kind, status, fromProxy)
	return status, b, fromProxy
}

// step sends the n-th request of the mix: one in ten drives the counter,
// the others read a user's profile (logging in again on a 401).
func (w *workload) step(n uint64) {
	if n%10 == 0 {
		w.increment()
		return
	}
	c := w.users[n%uint64(len(w.users))]
	if st, _, _ := w.do(c, kindProfile, "GET", "/profile", ""); st == http.StatusUnauthorized {
		w.relogins.Add(1)
		w.login(c)
	}
}

// increment sends GET /views on the counter session and books the answer.
func (w *workload) increment() {
	st, body, _ := w.do(w.ctr, kindCounter, "GET", "/views", "")
	w.ctrMu.Lock()
	defer w.ctrMu.Unlock()
	var v struct{ Views int64 }
	if st == 200 && json.Unmarshal(body, &v) == nil {
		w.ctrOK++
		w.ctrValues[v.Views]++
		return
	}
	w.ctrAmbiguous++
}

// anonymous sends one cookieless GET /views.
func (w *workload) anonymous() {
	if st, _, _ := w.do(w.anon, kindAnon, "GET", "/views", ""); st == 200 {
		w.anonCreated.Add(1)
		w.anonMu.Lock()
		w.anonTimes = append(w.anonTimes, time.Now())
		w.anonMu.Unlock()
	}
}

// closedLoop runs conc workers back to back for d and returns the
// requests per second they achieved.
func (w *workload) closedLoop(conc int, d time.Duration) float64 {
	var n atomic.Uint64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				w.step(n.Add(1))
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// openLoop sends rate requests per second (and anonPerSec cookieless ones)
// until ctx ends, whatever the answers' latency, with at most maxInFlight
// outstanding: beyond that a due request is skipped and counted as shed.
func (w *workload) openLoop(ctx context.Context, rate, anonPerSec float64, maxInFlight int) {
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var due, anonDue float64
	var n uint64
	launch := func(f func()) {
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() { defer wg.Done(); defer func() { <-sem }(); f() }()
		default:
			w.rec.shed.Add(1)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due += rate * tick.Seconds()
		anonDue += anonPerSec * tick.Seconds()
		for ; due >= 1; due-- {
			n++
			i := n
			launch(func() { w.step(i) })
		}
		for ; anonDue >= 1; anonDue-- {
			launch(w.anonymous)
		}
	}
}

// counterCheck reads the counter once more and checks that no increment
// answered 200 was lost: every 200 carried a distinct value (a lost write
// would make the counter repeat values), and the final value is at least
// the number of 200s. Increments without a clear answer may have counted
// or not; extra reports how many did.
func (w *workload) counterCheck() (final, ok, ambiguous, extra int64, err error) {
	w.increment()
	w.ctrMu.Lock()
	defer w.ctrMu.Unlock()
	ok, ambiguous = w.ctrOK, w.ctrAmbiguous
	final, err = counterVerdict(w.ctrValues, ok)
	return final, ok, ambiguous, final - ok, err
}

// counterVerdict checks the values the counter's 200 answers carried
// (value -> how many answers carried it) against ok, the number of those
// answers, and returns the highest value.
func counterVerdict(values map[int64]int, ok int64) (final int64, err error) {
	var repeated []int64
	for v, n := range values {
		final = max(final, v)
		if n > 1 {
			repeated = append(repeated, v)
		}
	}
	if len(repeated) > 0 {
		slices.Sort(repeated)
		return final, fmt.Errorf("counter values %v were each answered more than once: acknowledged increments were lost", repeated)
	}
	if final < ok {
		return final, fmt.Errorf("counter ends at %d after %d acknowledged increments: %d lost", final, ok, ok-final)
	}
	return final, nil
}

// anonSince counts the anonymous sessions made after t.
func (w *workload) anonSince(t time.Time) int {
	w.anonMu.Lock()
	defer w.anonMu.Unlock()
	n := 0
	for _, at := range w.anonTimes {
		if at.After(t) {
			n++
		}
	}
	return n
}

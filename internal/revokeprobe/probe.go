// Package revokeprobe measures how fast a logout on one tether instance
// reaches another instance that shares its session store (issue 13,
// point 3). It is measuring code, shared by the tools/revoke command and
// the end-to-end test TestRevocationAcrossInstances in cmd/tether; it is
// not part of the library.
//
// Set-up, for each batch of Batch trials: log in as the demo user on A
// once per trial, and read each session once on B; then wait Settle. That first read on B is the first
// request after a login, which writes (the account re-check notes the
// visit), and an instance with REDIS_CLIENT_CACHE reads a key it wrote
// itself from Redis for the cache's TTL (1 s) after the write: without the
// wait the trials would measure uncached reads.
//
// One trial: warm its session on B with a few GET /profile (so that a
// client-side cache holds it); start one goroutine that polls B's GET
// /profile back to back, as fast as it can; then POST /logout on A. The
// trial records
//
//   - the delay: from the moment A's logout response arrived to the moment
//     B's first refusal (401) arrived, or 0 when that refusal came first;
//   - stale answers: 200s from B to requests sent after A's logout response
//     arrived (a request sent earlier may rightly be answered from the
//     session as it was);
//   - 200s from B after its first refusal (a session that comes back).
//
// Polling goes on for a tail (default 20 ms) after the first refusal, and
// at most Timeout (default 1 s) after the logout: every trial is bounded.
//
// Only loopback base URLs are accepted: this is a load generator.
// Concurrency: Run is safe to call from one goroutine at a time per
// Config; it uses its own HTTP transport, closed when it returns.
package revokeprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config says what to measure. Zero fields take the documented defaults.
type Config struct {
	A, B     string // base URLs of the two instances (loopback), e.g. http://127.0.0.1:3200
	Trials   int    // default 100
	Warm     int    // GET /profile on B before the logout; default 5
	Username string // default "alice" (the --demo user)
	Password string // default "correct-horse"
	// Timeout bounds each trial's polling after the logout; a trial whose
	// B never refuses within it counts as not refused. Default 1 s.
	Timeout time.Duration
	// Tail is how long polling goes on after B's first refusal, to catch a
	// session that comes back. Default 20 ms.
	Tail time.Duration
	// Batch is how many sessions are set up at once (default 8: the
	// reference server keeps at most SESSION_MAX_PER_USER, default 10, per
	// user, and a login beyond it ends the oldest).
	Batch int
	// Settle is the wait between a batch's set-up (each session read once
	// on B) and its first trial. Default 1.5 s: past redisstore's default
	// CacheTTL, so that B serves the trials' reads from its cache.
	Settle time.Duration
	// Progress, when set, receives a line every ProgressEvery trials
	// (default 10) and one at the end.
	Progress      io.Writer
	ProgressEvery int
}

func (c *Config) defaults() error {
	if c.Trials <= 0 {
		c.Trials = 100
	}
	if c.Warm <= 0 {
		c.Warm = 5
	}
	if c.Username == "" {
		c.Username, c.Password = "alice", "correct-horse"
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 8
	}
	if c.Settle <= 0 {
		c.Settle = 1500 * time.Millisecond
	}
	if c.Tail <= 0 {
		c.Tail = 20 * time.Millisecond
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 10
	}
	for _, u := range []*string{&c.A, &c.B} {
		*u = strings.TrimSuffix(*u, "/")
		if err := Loopback(*u); err != nil {
			return err
		}
	}
	return nil
}

// Loopback checks that base is an http URL on a loopback address.
func Loopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("revokeprobe: %q: want an http://host:port base URL", base)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil && host != "localhost") || (ip != nil && !ip.IsLoopback()) {
		return fmt.Errorf("revokeprobe: %q: want a loopback address (a measuring tool)", base)
	}
	return nil
}

// Trial is the outcome of one trial.
type Trial struct {
	Refused bool          // B answered 401 within Timeout of the logout
	Delay   time.Duration // logout response to B's first 401 (0 if the 401 came first)
	Stale   int           // 200s to requests sent after the logout response
	Revived int           // 200s after B's first 401
	Polls   int           // requests the poller sent
}

// Run performs cfg.Trials trials, one after another, and summarises them.
// It returns an error when a request fails or answers something other
// than 200 or 401 where those are due (a broken set-up, not a finding).
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.defaults(); err != nil {
		return Result{}, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	p := &prober{cfg: cfg, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	trials := make([]Trial, 0, cfg.Trials)
	var hits int64
	for len(trials) < cfg.Trials {
		n := min(cfg.Batch, cfg.Trials-len(trials))
		sids, err := p.setUp(ctx, n)
		if err != nil {
			return Summarise(trials), err
		}
		before := p.cacheHits(ctx)
		for _, sid := range sids {
			if err := ctx.Err(); err != nil {
				return Summarise(trials), err
			}
			tl, err := p.trial(ctx, sid)
			if err != nil {
				return Summarise(trials), fmt.Errorf("trial %d: %w", len(trials)+1, err)
			}
			trials = append(trials, tl)
			i := len(trials) - 1
			if cfg.Progress != nil && ((i+1)%cfg.ProgressEvery == 0 || i+1 == cfg.Trials) {
				s := Summarise(trials)
				fmt.Fprintf(cfg.Progress, "revoke: %d/%d trials  p50 %s  p99 %s  max %s  stale %d  not refused %d\n",
					i+1, cfg.Trials, ms(s.P50), ms(s.P99), ms(s.Max), s.Stale, s.NotRefused)
			}
		}
		after := p.cacheHits(ctx)
		if before < 0 || after < 0 || hits < 0 {
			hits = -1
		} else {
			hits += after - before
		}
	}
	res := Summarise(trials)
	res.CacheHits = hits
	return res, nil
}

// setUp logs n sessions in on A, reads each once on B, and waits Settle.
func (p *prober) setUp(ctx context.Context, n int) ([]string, error) {
	sids := make([]string, 0, n)
	for i := range n {
		sid, err := p.login(ctx)
		if err != nil {
			return nil, fmt.Errorf("set-up, session %d: %w", i+1, err)
		}
		if st, err := p.get(ctx, p.cfg.B, sid); err != nil || st != http.StatusOK {
			return nil, fmt.Errorf("set-up, session %d: GET /profile on B: status %d, %v (want 200)", i+1, st, err)
		}
		sids = append(sids, sid)
	}
	select {
	case <-time.After(p.cfg.Settle):
		return sids, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type prober struct {
	cfg Config
	hc  *http.Client
}

// poll is one answer the poller saw.
type poll struct {
	sent, got time.Time
	status    int
}

func (p *prober) trial(ctx context.Context, sid string) (Trial, error) {
	for i := range p.cfg.Warm {
		if st, err := p.get(ctx, p.cfg.B, sid); err != nil || st != http.StatusOK {
			return Trial{}, fmt.Errorf("warm-up GET /profile %d on B: status %d, %v (want 200)", i+1, st, err)
		}
	}
	// The poller runs until stop closes, or until the logout is done and
	// it has polled Tail past its first refusal.
	stop, loggedOut := make(chan struct{}), make(chan struct{})
	pollCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	polls := make(chan []poll, 1)
	var pollErr error
	go func() {
		var seen []poll
		defer func() { polls <- seen }()
		var refusedAt time.Time
		for {
			select {
			case <-stop:
				return
			default:
			}
			sent := time.Now()
			st, err := p.get(pollCtx, p.cfg.B, sid)
			got := time.Now()
			if err != nil {
				if pollCtx.Err() == nil {
					pollErr = fmt.Errorf("poll GET /profile on B: %w", err)
				}
				return
			}
			seen = append(seen, poll{sent, got, st})
			if st != http.StatusOK && st != http.StatusUnauthorized {
				pollErr = fmt.Errorf("poll GET /profile on B: status %d, want 200 or 401", st)
				return
			}
			if st == http.StatusUnauthorized && refusedAt.IsZero() {
				refusedAt = got
			}
			if !refusedAt.IsZero() && got.Sub(refusedAt) >= p.cfg.Tail {
				select {
				case <-loggedOut:
					return
				default:
				}
			}
		}
	}()
	st, err := p.do(ctx, "POST", p.cfg.A+"/logout", sid)
	logoutAt := time.Now()
	close(loggedOut)
	if err != nil || st != http.StatusOK {
		close(stop)
		<-polls
		return Trial{}, fmt.Errorf("POST /logout on A: status %d, %v (want 200)", st, err)
	}
	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	var seen []poll
	select {
	case seen = <-polls:
	case <-timer.C:
		close(stop)
		cancel()
		seen = <-polls
	}
	if pollErr != nil {
		return Trial{}, pollErr
	}
	return judge(seen, logoutAt), nil
}

// judge turns the poller's answers into a Trial, given when A's logout
// response arrived.
func judge(seen []poll, logoutAt time.Time) Trial {
	tl := Trial{Polls: len(seen)}
	for _, pl := range seen {
		switch {
		case pl.status == http.StatusUnauthorized && !tl.Refused:
			tl.Refused = true
			tl.Delay = max(0, pl.got.Sub(logoutAt))
		case pl.status == http.StatusOK && tl.Refused:
			tl.Revived++
		}
		if pl.status == http.StatusOK && !pl.sent.Before(logoutAt) {
			tl.Stale++
		}
	}
	return tl
}

// login signs in on A and returns the session cookie's value.
func (p *prober) login(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": p.cfg.Username, "password": p.cfg.Password})
	req, err := http.NewRequestWithContext(ctx, "POST", p.cfg.A+"/login", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST /login on A: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /login on A: status %d, want 200", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "sid" && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", errors.New("POST /login on A: no sid cookie in the answer")
}

func (p *prober) get(ctx context.Context, base, sid string) (int, error) {
	return p.do(ctx, "GET", base+"/profile", sid)
}

// do sends one request with the session cookie and returns the status; the
// body is read (bounded) and dropped so the connection is reused.
func (p *prober) do(ctx context.Context, method, u, sid string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Cookie", "sid="+sid)
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/internal/testenv/dbscclient"
)

// The DBSC protocol tests drive the reference server over HTTPS with a Go
// client in the browser's place (package dbscclient: its own P-256 or RSA
// key, a cookie jar, the requests Chromium makes). These are their
// helpers: the server with a movable clock and an event log.

// newDBSCBrowser is a dbscclient.Browser for ts that also checks the API
// header set and the bound cookie's exact attributes on the DBSC answers.
func newDBSCBrowser(t *testing.T, ts *httptest.Server, alg string) *dbscclient.Browser {
	t.Helper()
	b := dbscclient.New(t, ts.URL, ts.Client().Transport, alg)
	b.BoundAttributes = "Path=/; Secure; HttpOnly; SameSite=Lax"
	b.Check = func(what string, resp *http.Response) { apiHeaderSet(t, what, resp) }
	return b
}

// apiHeaderSet checks DESIGN's API header set on a DBSC answer: JSON, not
// cached, not framed, loading nothing.
func apiHeaderSet(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Type":                 "application/json; charset=utf-8",
		"Cache-Control":                "no-store",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Resource-Policy": "same-origin",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %s got %q, want %q", what, name, got, want)
		}
	}
}

// dbscClock is a Manager clock the tests move.
type dbscClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *dbscClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *dbscClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventLog records the Manager's events, and writes them through package
// audit (the security log) into text.
type eventLog struct {
	mu   sync.Mutex
	ev   []tether.Event
	text bytes.Buffer
}

func (l *eventLog) on(e tether.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
	audit.New(&l.text).OnEvent(e)
}

// logged returns the security log written so far.
func (l *eventLog) logged() string { l.mu.Lock(); defer l.mu.Unlock(); return l.text.String() }

// count returns how many events of typ carry attribute reason = want
// (any reason when want is "").
func (l *eventLog) count(typ, want string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.ev {
		if e.Type != typ {
			continue
		}
		if want == "" {
			n++
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "reason" && a.Value.String() == want {
				n++
			}
		}
	}
	return n
}

// dbscServer is the reference server over TLS on a memstore, with a
// movable clock and an event log (dbscServerCfg for another store).
func dbscServer(t *testing.T, o Options) (*httptest.Server, *dbscClock, *eventLog) {
	t.Helper()
	return dbscServerCfg(t, tether.Config{}, o)
}

// dbscServerCfg is dbscServer with more of the Manager's configuration.
func dbscServerCfg(t *testing.T, cfg tether.Config, o Options) (*httptest.Server, *dbscClock, *eventLog) {
	t.Helper()
	clock := &dbscClock{now: time.Now().Truncate(time.Second)}
	log := &eventLog{}
	cfg.Now, cfg.OnEvent = clock.Now, log.on
	s := testServer(t, cfg, o)
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, clock, log
}

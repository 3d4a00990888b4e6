package tether_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// countingStore counts calls and can be switched to fail like an unreachable store.
type countingStore struct {
	tether.Store
	creates, loads, updates, deletes atomic.Int64
	down                             atomic.Bool
	skipMoves                        atomic.Bool // Load moves no idle deadline, as a store may for small moves
}

var errDown = errors.New("connection refused")

func (c *countingStore) calls() int64 {
	return c.creates.Load() + c.loads.Load() + c.updates.Load() + c.deletes.Load()
}

func (c *countingStore) reset() {
	c.creates.Store(0)
	c.loads.Store(0)
	c.updates.Store(0)
	c.deletes.Store(0)
}

func (c *countingStore) Create(ctx context.Context, k string, r *tether.Record) error {
	c.creates.Add(1)
	if c.down.Load() {
		return errDown
	}
	return c.Store.Create(ctx, k, r)
}

func (c *countingStore) Load(ctx context.Context, k string, now, idle time.Time) (*tether.Record, error) {
	c.loads.Add(1)
	if c.down.Load() {
		return nil, errDown
	}
	if c.skipMoves.Load() {
		idle = time.Time{}
	}
	return c.Store.Load(ctx, k, now, idle)
}

func (c *countingStore) Update(ctx context.Context, k string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	c.updates.Add(1)
	if c.down.Load() {
		return nil, errDown
	}
	return c.Store.Update(ctx, k, now, p)
}

func (c *countingStore) Delete(ctx context.Context, k string) error {
	c.deletes.Add(1)
	if c.down.Load() {
		return errDown
	}
	return c.Store.Delete(ctx, k)
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventLog collects events.
type eventLog struct {
	mu     sync.Mutex
	events []tether.Event
}

func (l *eventLog) add(e tether.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) types() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		out = append(out, e.Type)
	}
	return out
}

func (l *eventLog) has(typ string) bool {
	for _, t := range l.types() {
		if t == typ {
			return true
		}
	}
	return false
}

type fixture struct {
	m      *tether.Manager
	store  *countingStore
	mem    *memstore.Store
	clock  *clock
	events *eventLog
	h      http.Handler
}

var secretA = bytes.Repeat([]byte("a"), 32)
var secretB = bytes.Repeat([]byte("b"), 32)

func newFixture(t *testing.T, mod func(*tether.Config)) *fixture {
	t.Helper()
	f := &fixture{mem: memstore.New(), clock: &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, events: &eventLog{}}
	f.store = &countingStore{Store: f.mem}
	cfg := tether.Config{
		Store:                f.store,
		Secrets:              [][]byte{secretA},
		Now:                  f.clock.Now,
		OnEvent:              f.events.add,
		RoleAbsoluteTimeouts: map[string]time.Duration{"admin": time.Hour},
	}
	if mod != nil {
		mod(&cfg)
	}
	m, err := tether.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	f.h = m.Handler(testMux(t))
	return f
}

// testMux is a small app on the session API.
func testMux(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /noop", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_, _ = w.Write([]byte(s.UserID() + "|" + s.GetString(r.URL.Query().Get("k"))))
	})
	mux.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Set(r.URL.Query().Get("k"), r.URL.Query().Get("v")); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write([]byte("set"))
	})
	mux.HandleFunc("GET /incr", func(w http.ResponseWriter, r *http.Request) {
		n, err := tether.FromContext(r.Context()).Incr(r.Context(), "n", 1)
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		_, _ = w.Write([]byte(strconv.FormatInt(n, 10)))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Login("user-1", r.URL.Query().Get("role")); err != nil {
			t.Errorf("Login: %v", err)
		}
		_, _ = w.Write([]byte("in"))
	})
	mux.HandleFunc("GET /regen", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Regenerate()
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout()
		_, _ = w.Write([]byte("out"))
	})
	return mux
}

// do sends a request with the given cookie value ("" for none) and returns the
// recorder and the session cookie the response set ("" if none, "-" if expired).
func (f *fixture) do(t *testing.T, path, cookie string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: cookie})
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec, setCookie(rec, f.m.CookieName())
}

func setCookie(rec *httptest.ResponseRecorder, name string) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			if c.MaxAge < 0 {
				return "-"
			}
			return c.Value
		}
	}
	return ""
}

func (c *countingStore) ListUser(ctx context.Context, userID string, now time.Time) (map[string]*tether.Record, error) {
	return c.Store.(tether.UserIndex).ListUser(ctx, userID, now)
}

func (c *countingStore) DeleteUser(ctx context.Context, userID string) (int, error) {
	return c.Store.(tether.UserIndex).DeleteUser(ctx, userID)
}

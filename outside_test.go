package tether_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/sqlitestore"
)

// outsideStores are the real stores the outside-HTTP tests run on.
var outsideStores = []string{"memstore", "sqlitestore"}

// newOutsideFixture returns a fixture (helpers_test.go) on a real store of
// the given kind, counted by a countingStore. The clock starts at the real
// time, to the millisecond that sqlitestore keeps.
func newOutsideFixture(t *testing.T, kind string, mod func(*tether.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: time.Now().Truncate(time.Millisecond)}, events: &eventLog{}}
	var st tether.Store
	switch kind {
	case "memstore":
		f.mem = memstore.New()
		st = f.mem
	case "sqlitestore":
		sq, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{SweepInterval: -1})
		if err != nil {
			t.Fatalf("sqlitestore.Open: %v", err)
		}
		t.Cleanup(func() { sq.Close() })
		st = sq
	default:
		t.Fatalf("unknown store %q", kind)
	}
	f.store = &countingStore{Store: st}
	cfg := tether.Config{
		Store:   f.store,
		Secrets: [][]byte{secretA},
		Now:     f.clock.Now,
		OnEvent: f.events.add,
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

// session returns the cookie of a new session that holds k=v, as a browser
// gets it from the middleware.
func (f *fixture) session(t *testing.T, k, v string) string {
	t.Helper()
	rec, c := f.do(t, "/set?k="+k+"&v="+v, "")
	if rec.Code != http.StatusOK || c == "" || c == "-" {
		t.Fatalf("GET /set: got %d, cookie %q; want 200 and a session cookie", rec.Code, c)
	}
	return c
}

// body sends GET path with cookie and returns the response body.
func (f *fixture) body(t *testing.T, path, cookie string) string {
	t.Helper()
	rec, _ := f.do(t, path, cookie)
	return rec.Body.String()
}

func forEachStore(t *testing.T, mod func(*tether.Config), test func(t *testing.T, f *fixture)) {
	for _, kind := range outsideStores {
		t.Run(kind, func(t *testing.T) { test(t, newOutsideFixture(t, kind, mod)) })
	}
}

func TestLoadChangeSaveSeenByNextRequest(t *testing.T) {
	forEachStore(t, func(c *tether.Config) { c.AnonymousIdleTimeout = 30 * time.Minute }, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.session(t, "a", "1")
		f.clock.Add(10 * time.Minute)
		f.store.reset()

		s, err := f.m.Load(ctx, c)
		if err != nil {
			t.Fatalf("Load: got %v, want nil", err)
		}
		if got := f.store.calls(); got != 1 {
			t.Errorf("store calls of Load: got %d, want 1", got)
		}
		if got := s.GetString("a"); got != "1" {
			t.Errorf(`GetString("a"): got %q, want "1"`, got)
		}
		idle, _ := s.Deadlines()
		if want := f.clock.Now().Add(tether.DefaultIdleTimeout); idle.Sub(want).Abs() > time.Second {
			t.Errorf("idle deadline after Load: got %v, want %v (refreshed by the load)", idle, want)
		}
		if err := s.Set("b", "2"); err != nil {
			t.Fatalf("Set: %v", err)
		}
		v, err := s.Save(ctx)
		if err != nil || v != c {
			t.Fatalf("Save: got %q, %v; want the same cookie value, nil", v, err)
		}
		if got := f.store.updates.Load(); got != 1 {
			t.Errorf("store updates of Save: got %d, want 1", got)
		}
		if got, want := f.body(t, "/get?k=b", c), "|2"; got != want {
			t.Errorf("next request: got %q, want %q", got, want)
		}
		if got, want := f.body(t, "/get?k=a", c), "|1"; got != want {
			t.Errorf("next request: got %q, want %q", got, want)
		}

		// A unit of work without changes saves without a store call.
		s, err = f.m.Load(ctx, c)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		f.store.reset()
		if v, err := s.Save(ctx); err != nil || v != c {
			t.Errorf("Save without changes: got %q, %v; want the same value, nil", v, err)
		}
		if got := f.store.calls(); got != 0 {
			t.Errorf("store calls of Save without changes: got %d, want 0", got)
		}
	})
}

// The outside API and the browser's requests change different keys of one
// session at the same time: neither loses the other's change.
func TestLoadSaveKeepsConcurrentChanges(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.session(t, "a", "0")
		s, err := f.m.Load(ctx, c)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		f.body(t, "/set?k=b&v=browser", c) // between Load and Save
		if err := s.Set("a", "loop"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(ctx); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for k, want := range map[string]string{"a": "|loop", "b": "|browser"} {
			if got := f.body(t, "/get?k="+k, c); got != want {
				t.Errorf("%s: got %q, want %q", k, got, want)
			}
		}
	})
}

func TestLoadIncrConcurrentIsExact(t *testing.T) {
	const perWorker = 40
	forEachStore(t, nil, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.session(t, "a", "1")
		var wg sync.WaitGroup
		errs := make(chan error, 3*perWorker)
		for range 2 { // two message loops on one session
			wg.Go(func() {
				for range perWorker {
					s, err := f.m.Load(ctx, c)
					if err != nil {
						errs <- err
						return
					}
					if _, err := s.Incr(ctx, "n", 1); err != nil {
						errs <- err
					}
					if _, err := s.Save(ctx); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Go(func() { // and the browser
			for range perWorker {
				if rec, _ := f.do(t, "/incr", c); rec.Code != http.StatusOK {
					errs <- errors.New("GET /incr: " + rec.Body.String())
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s, err := f.m.Load(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.GetInt64("n"), int64(3*perWorker); got != want {
			t.Errorf("n: got %d, want %d", got, want)
		}
	})
}

// A logout through HTTP between Load and Save: the loop's changes are not
// saved, the record is not re-created, and the next Load is refused.
func TestSaveAfterLogoutIsSessionEnded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*tether.Session) error
	}{
		{"Set", func(s *tether.Session) error { return s.Set("x", "1") }},
		{"Regenerate", func(s *tether.Session) error { return s.Regenerate() }},
		{"Incr", func(s *tether.Session) error {
			_, err := s.Incr(context.Background(), "n", 1)
			if !errors.Is(err, tether.ErrSessionEnded) {
				return errors.New("Incr after a logout: got " + errString(err) + ", want ErrSessionEnded")
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, nil, func(t *testing.T, f *fixture) {
				ctx := context.Background()
				c := f.session(t, "a", "1")
				s, err := f.m.Load(ctx, c)
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if rec, set := f.do(t, "/logout", c); rec.Code != http.StatusOK || set != "-" {
					t.Fatalf("GET /logout: got %d, cookie %q; want 200, expired", rec.Code, set)
				}
				f.store.reset()
				if err := tc.change(s); err != nil {
					t.Fatal(err)
				}
				v, err := s.Save(ctx)
				if v != "" || !errors.Is(err, tether.ErrSessionEnded) {
					t.Fatalf("Save: got %q, %v; want \"\", ErrSessionEnded", v, err)
				}
				if got := f.store.creates.Load(); got != 0 {
					t.Errorf("store creates: got %d, want 0 (no resurrection)", got)
				}
				if _, err := f.m.Load(ctx, c); !errors.Is(err, tether.ErrSessionEnded) {
					t.Errorf("Load after logout: got %v, want ErrSessionEnded", err)
				}
			})
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// Regenerate and Login through the outside API give a new cookie value; the
// old one stops working at once, over HTTP and outside.
func TestSaveRotationReturnsNewValue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rotate func(*tether.Session) error
		want   string // the new value's /get?k=a answer
	}{
		{"Regenerate", (*tether.Session).Regenerate, "|1"},
		// A login of a new user starts the values afresh (issue 11 row 4).
		{"Login", func(s *tether.Session) error { return s.Login("carol", "") }, "carol|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, nil, func(t *testing.T, f *fixture) {
				ctx := context.Background()
				c := f.session(t, "a", "1")
				s, err := f.m.Load(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.rotate(s); err != nil {
					t.Fatal(err)
				}
				c2, err := s.Save(ctx)
				if err != nil || c2 == "" || c2 == c {
					t.Fatalf("Save: got %q, %v; want a new value, nil", c2, err)
				}
				if _, err := f.m.Load(ctx, c); !errors.Is(err, tether.ErrSessionEnded) {
					t.Errorf("Load of the old value: got %v, want ErrSessionEnded", err)
				}
				if got, want := f.body(t, "/get?k=a", c), "|"; got != want {
					t.Errorf("HTTP with the old value: got %q, want %q", got, want)
				}
				if got, want := f.body(t, "/get?k=a", c2), tc.want; got != want {
					t.Errorf("HTTP with the new value: got %q, want %q", got, want)
				}
			})
		})
	}
}

func TestSaveAfterLogout(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.session(t, "a", "1")
		s, err := f.m.Load(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		s.Logout()
		if v, err := s.Save(ctx); v != "" || err != nil {
			t.Fatalf("Save after Logout: got %q, %v; want \"\", nil", v, err)
		}
		if !f.events.has(tether.EventLogout) {
			t.Errorf("events: got %v, want logout", f.events.types())
		}
		if _, err := f.m.Load(ctx, c); !errors.Is(err, tether.ErrSessionEnded) {
			t.Errorf("Load after Logout: got %v, want ErrSessionEnded", err)
		}
	})
}

func TestSaveMisuse(t *testing.T) {
	f := newOutsideFixture(t, "memstore", nil)
	ctx := context.Background()
	c := f.session(t, "a", "1")

	t.Run("twice", func(t *testing.T) {
		s, err := f.m.Load(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(ctx); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Save(ctx); v != "" || !errors.Is(err, tether.ErrAlreadySaved) {
			t.Errorf("second Save: got %q, %v; want \"\", ErrAlreadySaved", v, err)
		}
		if err := s.Set("late", "x"); !errors.Is(err, tether.ErrResponseStarted) {
			t.Errorf("Set after Save: got %v, want ErrResponseStarted", err)
		}
	})
	t.Run("middleware session", func(t *testing.T) {
		var saveErr error
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, saveErr = tether.FromContext(r.Context()).Save(r.Context())
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: c})
		h.ServeHTTP(httptest.NewRecorder(), req)
		if saveErr == nil || !strings.Contains(saveErr.Error(), "Manager.Load") {
			t.Errorf("Save of a middleware session: got %v, want an error naming Manager.Load", saveErr)
		}
	})
	t.Run("nil context", func(t *testing.T) {
		//lint:ignore SA1012 the nil context is the point
		if _, err := f.m.Load(nil, c); err == nil { //nolint:staticcheck
			t.Error("Load(nil, …): got nil error, want one")
		}
	})
}

// A store outage is neither a logout nor a lost cookie: Load and Save
// report ErrStoreUnavailable, and Save hands back the value it was given.
func TestLoadSaveStoreOutage(t *testing.T) {
	f := newOutsideFixture(t, "memstore", nil)
	ctx := context.Background()
	c := f.session(t, "a", "1")

	f.store.down.Store(true)
	if _, err := f.m.Load(ctx, c); !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Errorf("Load during an outage: got %v, want ErrStoreUnavailable", err)
	}
	f.store.down.Store(false)
	s, err := f.m.Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("b", "2"); err != nil {
		t.Fatal(err)
	}
	f.store.down.Store(true)
	v, err := s.Save(ctx)
	f.store.down.Store(false)
	if v != c || !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Errorf("Save during an outage: got %q, %v; want the value Load was given, ErrStoreUnavailable", v, err)
	}
	if got, want := f.body(t, "/get?k=a", c), "|1"; got != want {
		t.Errorf("after the outage: got %q, want %q", got, want)
	}
}

// A value signed by an older secret loads, and Save re-signs it with the
// current one.
func TestSaveResignsOldSecret(t *testing.T) {
	old := newOutsideFixture(t, "memstore", func(c *tether.Config) { c.Secrets = [][]byte{secretB} })
	c := old.session(t, "a", "1")
	f := newOutsideFixture(t, "memstore", func(cfg *tether.Config) {
		cfg.Store = old.store
		cfg.Secrets = [][]byte{secretA, secretB}
	})
	ctx := context.Background()
	s, err := f.m.Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Save(ctx)
	if err != nil || v == c || v == "" {
		t.Fatalf("Save: got %q, %v; want a new value, nil", v, err)
	}
	if !f.events.has(tether.EventSessionResigned) {
		t.Errorf("events: got %v, want session_resigned", f.events.types())
	}
	current := newOutsideFixture(t, "memstore", func(cfg *tether.Config) { cfg.Store = old.store })
	if s, err := current.m.Load(ctx, v); err != nil || s.GetString("a") != "1" {
		t.Errorf("Load of the re-signed value with only the current secret: got %v", err)
	}
}

// Save's store calls use Save's context, not Load's: a loop may load with a
// per-message context that is over by the time it saves, and a Save whose
// own context is cancelled fails rather than running unbounded.
func TestSaveUsesItsOwnContext(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, f *fixture) {
		c := f.session(t, "a", "1")
		loadCtx, cancel := context.WithCancel(context.Background())
		s, err := f.m.Load(loadCtx, c)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := s.Set("b", "2"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Save(context.Background()); err != nil || v != c {
			t.Fatalf("Save after Load's context ended: got %q, %v; want the same value, nil", v, err)
		}
		if got, want := f.body(t, "/get?k=b", c), "|2"; got != want {
			t.Errorf("next request: got %q, want %q", got, want)
		}
	})
}

// BenchmarkLoadIncrSave is one message of a WebSocket loop on memstore:
// Load, Incr, Save (two store calls).
func BenchmarkLoadIncrSave(b *testing.B) {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA}})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(testMux(nil)).ServeHTTP(rec, httptest.NewRequest("GET", "/set?k=a&v=1", nil))
	c := setCookie(rec, m.CookieName())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := m.Load(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Incr(ctx, "n", 1); err != nil {
			b.Fatal(err)
		}
		if c, err = s.Save(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// A gRPC-style interceptor: the handler finds the loaded session in its
// context with the same calls as an HTTP handler, and its change is saved.
func TestNewContext(t *testing.T) {
	f := newOutsideFixture(t, "memstore", nil)
	other := newOutsideFixture(t, "memstore", nil)
	c := f.session(t, "a", "1")
	ctx := context.Background()
	handler := func(ctx context.Context) error {
		if s, ok := other.m.Lookup(ctx); ok {
			t.Errorf("another Manager's Lookup: got %v, want none", s)
		}
		if f.m.FromContext(ctx) != tether.FromContext(ctx) {
			t.Error("Manager.FromContext and FromContext: got different sessions, want the loaded one")
		}
		return tether.FromContext(ctx).Set("rpc", "done")
	}
	s, err := f.m.Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := handler(tether.NewContext(ctx, s)); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if _, err := s.Save(ctx); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got, want := f.body(t, "/get?k=rpc", c), "|done"; got != want {
		t.Errorf("next request: got %q, want %q", got, want)
	}
}

package tether_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Anonymous sessions (issue 11 row 5): any client stores one with a single
// cookieless request, so they live AnonymousIdleTimeout (5 minutes by
// default) instead of the full IdleTimeout, and Config.AllowCreate can
// refuse new ones.

// storedIdle returns the idle deadline the store holds for the session
// whose cookie value is cookie, read without moving it.
func (f *fixture) storedIdle(t *testing.T, cookie string) time.Time {
	t.Helper()
	tok, _, _ := strings.Cut(cookie, ".")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("cookie %q: %v", cookie, err)
	}
	sum := sha256.Sum256(raw[:tether.TokenBytes]) // the token; a renewal secret may follow
	rec, err := f.mem.Update(context.Background(), hex.EncodeToString(sum[:]), f.clock.Now(), &tether.Patch{})
	if err != nil {
		t.Fatalf("stored record: %v", err)
	}
	return rec.IdleDeadline
}

func maxAge(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	for _, p := range strings.Split(rec.Header().Get("Set-Cookie"), "; ") {
		if v, ok := strings.CutPrefix(p, "Max-Age="); ok {
			return v
		}
	}
	return ""
}

func TestAnonymousIdleTimeoutConfig(t *testing.T) {
	for _, tc := range []struct {
		name       string
		idle, anon time.Duration
		want       string // error substring; "" for success
		wantCookie string // Max-Age of a new anonymous session's cookie
	}{
		{"default", 0, 0, "", "300"},
		{"default capped at a shorter IdleTimeout", 2 * time.Minute, 0, "", "120"},
		{"set", 0, 10 * time.Minute, "", "600"},
		{"equal to IdleTimeout", 0, 30 * time.Minute, "", "1800"},
		{"longer than IdleTimeout", 0, 31 * time.Minute, "Config.AnonymousIdleTimeout 31m0s must not be longer than IdleTimeout 30m0s", ""},
		{"under a second", 0, time.Millisecond, "Config.AnonymousIdleTimeout 1ms must be at least 1s", ""},
		{"negative", 0, -time.Minute, "Config.AnonymousIdleTimeout -1m0s must be at least 1s", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tether.Config{Store: fakePersistentStore{newFixture(t, nil).mem}, Secrets: [][]byte{secretA},
				IdleTimeout: tc.idle, AnonymousIdleTimeout: tc.anon}
			m, err := tether.New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: got error %v, want success", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: got error %v, want one containing %q", err, tc.want)
			case tc.want != "":
				return
			}
			rec := httptest.NewRecorder()
			m.Handler(testMux(t)).ServeHTTP(rec, httptest.NewRequest("GET", "/set?k=a&v=1", nil))
			if got := maxAge(t, rec); got != tc.wantCookie {
				t.Fatalf("new anonymous session's Max-Age: got %q, want %q", got, tc.wantCookie)
			}
		})
	}
}

// The stored idle deadline and the rolling cookie's Max-Age of anonymous
// and signed-in sessions, on every path that moves the deadline: creation,
// a load, a first Incr, a login from an anonymous session, and a
// Regenerate.
func TestAnonymousIdleDeadline(t *testing.T) {
	const anon, full = 5 * time.Minute, 30 * time.Minute
	f := newFixture(t, nil)
	type step struct {
		name    string
		advance time.Duration
		path    string
		idle    time.Duration // stored idle deadline afterwards, from now
		maxAge  string        // of the Set-Cookie sent, "" for none
		calls   int64         // store calls of the request
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"anonymous", []step{
			{"created", 0, "/set?k=a&v=1", anon, "300", 1},
			{"loaded 4 minutes later", 4 * time.Minute, "/get?k=a", anon, "300", 2}, // the cookie's expiry moved: saved
			{"first Incr 4 minutes later", 4 * time.Minute, "/incr", anon, "300", 2},
			{"regenerated", time.Minute, "/regen", anon, "300", 5},
			{"logged in: full timeout (c)", time.Minute, "/login", full, "1800", 4},
			{"loaded 20 minutes after the login", 20 * time.Minute, "/get?k=a", full, "1800", 2},
		}},
		{"signed in at once", []step{
			{"logged in", 0, "/login", full, "1800", 1},
			{"first Incr 20 minutes later", 20 * time.Minute, "/incr", full, "1800", 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ""
			for _, st := range tc.steps {
				f.clock.Add(st.advance)
				f.store.reset()
				rec, got := f.do(t, st.path, c)
				if rec.Code != http.StatusOK || got == "-" {
					t.Fatalf("%s: got %d with cookie %q, want 200 and a live session", st.name, rec.Code, got)
				}
				if got != "" {
					c = got
				}
				if got, want := f.storedIdle(t, c), f.clock.Now().Add(st.idle); !got.Equal(want) {
					t.Errorf("%s: stored idle deadline %v from now, want %v", st.name, got.Sub(f.clock.Now()), st.idle)
				}
				if got := maxAge(t, rec); got != st.maxAge {
					t.Errorf("%s: Max-Age %q, want %q", st.name, got, st.maxAge)
				}
				if got := f.store.calls(); got != st.calls {
					t.Errorf("%s: store calls %d, want %d", st.name, got, st.calls)
				}
			}
		})
	}
}

// An anonymous session unused for its idle timeout is gone, on the server,
// although a signed-in one would have lived on.
func TestAnonymousSessionExpires(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/set?k=a&v=1", "")
	f.clock.Add(5*time.Minute + time.Second)
	rec, got := f.do(t, "/get?k=a", c)
	if body := rec.Body.String(); body != "|" || got != "-" {
		t.Fatalf("5m01s later: got %q with cookie %q, want no session and the cookie expired", body, got)
	}
	if !f.events.has(tether.EventIdleTimeout) {
		t.Fatalf("events %v: want %s", f.events.types(), tether.EventIdleTimeout)
	}
	if n := f.mem.Len(); n != 0 {
		t.Fatalf("records left: got %d, want 0", n)
	}
}

// allowFixture is a fixture whose Config.AllowCreate answers wait and err,
// and counts its calls.
func allowFixture(t *testing.T, wait time.Duration, err error) (*fixture, *atomic.Int64) {
	var asked atomic.Int64
	f := newFixture(t, func(c *tether.Config) {
		c.AllowCreate = func(r *http.Request) (time.Duration, error) {
			asked.Add(1)
			return wait, err
		}
	})
	return f, &asked
}

func TestAllowCreate(t *testing.T) {
	errCounter := errors.New("counter unreachable")
	for _, tc := range []struct {
		name       string
		wait       time.Duration
		err        error
		path       string
		status     int
		retryAfter string
		asked      int64
		records    int
	}{
		{"allowed", 0, nil, "/set?k=a&v=1", 200, "", 1, 1},
		{"refused", 1500 * time.Millisecond, nil, "/set?k=a&v=1", 429, "2", 1, 0},
		{"refused, first use is Incr", time.Minute, nil, "/incr", 429, "60", 1, 0},
		{"refused under a second: Retry-After 1", time.Millisecond, nil, "/set?k=a&v=1", 429, "1", 1, 0},
		{"counter fails: closed", 0, errCounter, "/set?k=a&v=1", 503, "1", 1, 0},
		{"a read stores nothing and is not asked", time.Minute, nil, "/get?k=a", 200, "", 0, 0},
		{"an untouched session is not asked", time.Minute, nil, "/noop", 200, "", 0, 0},
		{"a login is not asked", time.Minute, nil, "/login", 200, "", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, asked := allowFixture(t, tc.wait, tc.err)
			rec, c := f.do(t, tc.path, "")
			if rec.Code != tc.status {
				t.Fatalf("status: got %d (%s), want %d", rec.Code, rec.Body, tc.status)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tc.retryAfter)
			}
			if got := asked.Load(); got != tc.asked {
				t.Errorf("AllowCreate calls: got %d, want %d", got, tc.asked)
			}
			if got := f.mem.Len(); got != tc.records {
				t.Errorf("records stored: got %d, want %d", got, tc.records)
			}
			if tc.status == 429 {
				if c != "" {
					t.Errorf("Set-Cookie on a refused creation: got %q, want none", c)
				}
				if got, want := rec.Body.String(), `{"error":"Too many new sessions; retry later"}`+"\n"; got != want {
					t.Errorf("body: got %q, want %q", got, want)
				}
				e := f.events.last(t, tether.EventRateLimited)
				if got := attr(e, "limit"); got != tether.LimitSessionCreate {
					t.Errorf("rate_limited limit: got %q, want %q", got, tether.LimitSessionCreate)
				}
				if got := attr(e, "retryAfterSeconds"); got != tc.retryAfter {
					t.Errorf("rate_limited retryAfterSeconds: got %q, want %q", got, tc.retryAfter)
				}
			} else if f.events.has(tether.EventRateLimited) {
				t.Errorf("events %v: want no %s", f.events.types(), tether.EventRateLimited)
			}
		})
	}
}

// A session that exists already is never refused: its changes, its
// rotation and a login from it are not new sessions.
func TestAllowCreateSparesExistingSessions(t *testing.T) {
	var refuse atomic.Bool
	f := newFixture(t, func(c *tether.Config) {
		c.AllowCreate = func(*http.Request) (time.Duration, error) {
			if refuse.Load() {
				return time.Minute, nil
			}
			return 0, nil
		}
	})
	_, c := f.do(t, "/set?k=a&v=1", "")
	refuse.Store(true)
	for _, path := range []string{"/set?k=a&v=2", "/incr", "/regen", "/login"} {
		rec, got := f.do(t, path, c)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s on an existing session: got %d (%s), want 200", path, rec.Code, rec.Body)
		}
		if got != "" {
			c = got
		}
	}
	if f.events.has(tether.EventRateLimited) {
		t.Fatalf("events %v: want no %s", f.events.types(), tether.EventRateLimited)
	}
}

func TestStatusOfCreateLimited(t *testing.T) {
	err := error(&tether.CreateLimitedError{RetryAfter: 3 * time.Second})
	if !errors.Is(err, tether.ErrCreateLimited) {
		t.Fatalf("errors.Is(%v, ErrCreateLimited): got false, want true", err)
	}
	if status, _ := tether.StatusOf(err); status != http.StatusTooManyRequests {
		t.Fatalf("StatusOf: got %d, want 429", status)
	}
	rec := httptest.NewRecorder()
	tether.DefaultErrorHandler(rec, httptest.NewRequest("GET", "/", nil), err)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("DefaultErrorHandler: got %d, Retry-After %q; want 429, 3", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// last returns the last event of type typ.
func (l *eventLog) last(t *testing.T, typ string) tether.Event {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].Type == typ {
			return l.events[i]
		}
	}
	t.Fatalf("no %s event", typ)
	return tether.Event{}
}

// attr returns the value of e's attribute key, "" if it has none.
func attr(e tether.Event, key string) string {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// The load guesses a record's kind from its token's tag; when the guess is
// wrong (a token minted before tags, or by other code) one more store call
// sets the right idle deadline, so that an anonymous record never keeps the
// full timeout and a signed-in one never gets the short one.
func TestAnonymousIdleWrongGuess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		tagged bool
		idle   time.Duration
		calls  int64
	}{
		{"anonymous, tagged", "", true, 5 * time.Minute, 1},
		{"anonymous, untagged: fixed", "", false, 5 * time.Minute, 2},
		{"signed in, untagged", "u1", false, 30 * time.Minute, 1},
		{"signed in, tagged: fixed", "u1", true, 30 * time.Minute, 2},
	} {
		for _, path := range []string{"/get?k=a", "/incr"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				f := newFixture(t, nil)
				now := f.clock.Now()
				tok := make([]byte, tether.TokenBytes)
				tok[0] = 1
				if tc.tagged {
					tok[0] = tether.AnonTokenTag
				}
				sum := sha256.Sum256(tok)
				err := f.mem.Create(context.Background(), hex.EncodeToString(sum[:]), &tether.Record{
					UserID: tc.user, CreatedAt: now,
					IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(8 * time.Hour),
				})
				if err != nil {
					t.Fatal(err)
				}
				c := tether.SignToken(f.m, tok)
				f.clock.Add(30 * time.Second)
				f.store.skipMoves.Store(false)
				f.store.reset()
				rec, _ := f.do(t, path, c)
				if rec.Code != http.StatusOK {
					t.Fatalf("status: got %d (%s), want 200", rec.Code, rec.Body)
				}
				if got, want := f.storedIdle(t, c), f.clock.Now().Add(tc.idle); !got.Equal(want) {
					t.Errorf("stored idle deadline: got %v from now, want %v", got.Sub(f.clock.Now()), tc.idle)
				}
				// + 1: the rolling cookie's expiry, stored the first time it is sent.
				if got := f.store.calls(); got != tc.calls+1 {
					t.Errorf("store calls: got %d, want %d", got, tc.calls+1)
				}
			})
		}
	}
}

package tether_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// What Manager.Load refuses (expired, forged, oversized values), without a
// store call where the signature already says no, and the events it leaves.

func TestLoadExpiredIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // clock moves, each followed by a Load but the last
		event string
	}{
		{"idle", []time.Duration{31 * time.Minute}, tether.EventIdleTimeout},
		{"absolute", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, tether.EventAbsoluteTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(c *tether.Config) { c.AbsoluteTimeout, c.AnonymousIdleTimeout = time.Hour, 30*time.Minute }, func(t *testing.T, f *fixture) {
				ctx := context.Background()
				c := f.session(t, "a", "1")
				for i, d := range tc.steps {
					f.clock.Add(d)
					s, err := f.m.Load(ctx, c)
					if i < len(tc.steps)-1 {
						if err != nil {
							t.Fatalf("Load after %v: got %v, want nil", d, err)
						}
						continue
					}
					if s != nil || !errors.Is(err, tether.ErrSessionEnded) {
						t.Fatalf("Load of an expired session: got %v, %v; want nil, ErrSessionEnded", s, err)
					}
				}
				if !f.events.has(tc.event) {
					t.Errorf("events: got %v, want %s", f.events.types(), tc.event)
				}
				// The record is gone: HTTP sees no session either.
				if got, want := f.body(t, "/get?k=a", c), "|"; got != want {
					t.Errorf("next request: got %q, want %q", got, want)
				}
			})
		})
	}
}

func TestLoadRefusesForgedWithoutStoreCall(t *testing.T) {
	f := newOutsideFixture(t, "memstore", nil)
	good := f.session(t, "a", "1")
	other := newOutsideFixture(t, "memstore", func(c *tether.Config) { c.Secrets = [][]byte{secretB} })
	signedByOther := other.session(t, "a", "1")
	tampered := []byte(good)
	tampered[3] = 'A'
	if good[3] == 'A' {
		tampered[3] = 'B'
	}
	for _, tc := range []struct {
		name, value string
		want        error
		event       bool
	}{
		{"empty", "", tether.ErrInvalidCookie, false},
		{"garbage", "hello", tether.ErrInvalidCookie, true},
		{"other secret", signedByOther, tether.ErrInvalidCookie, true},
		{"tampered token", string(tampered), tether.ErrInvalidCookie, true},
		{"truncated", good[:len(good)-1], tether.ErrInvalidCookie, true},
		{"second cookie smuggled", good + "; sid=" + good, tether.ErrInvalidCookie, true},
		{"oversized", strings.Repeat("a", tether.DefaultMaxCookieBytes+1), tether.ErrCookieTooLarge, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.store.reset()
			rejected := countType(f.events, tether.EventSessionRejected)
			s, err := f.m.Load(context.Background(), tc.value)
			if s != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Load: got %v, %v; want nil, %v", s, err, tc.want)
			}
			if got := f.store.calls(); got != 0 {
				t.Errorf("store calls: got %d, want 0", got)
			}
			if got := countType(f.events, tether.EventSessionRejected) - rejected; got != map[bool]int{true: 1}[tc.event] {
				t.Errorf("session_rejected events: got %d, want %d", got, map[bool]int{true: 1}[tc.event])
			}
		})
	}
	if status, _ := tether.StatusOf(tether.ErrInvalidCookie); status != http.StatusUnauthorized {
		t.Errorf("StatusOf(ErrInvalidCookie): got %d, want 401", status)
	}
	if !errors.Is(tether.ErrInvalidCookie, tether.ErrNotAuthenticated) {
		t.Error("errors.Is(ErrInvalidCookie, ErrNotAuthenticated): got false, want true")
	}
}

func countType(l *eventLog, typ string) int {
	n := 0
	for _, t := range l.types() {
		if t == typ {
			n++
		}
	}
	return n
}

func TestLoadRejectionEvents(t *testing.T) {
	var got []tether.Event
	f := newOutsideFixture(t, "memstore", func(c *tether.Config) { c.OnEvent = func(e tether.Event) { got = append(got, e) } })
	good := f.session(t, "a", "1")
	got = nil
	for _, tc := range []struct{ value, reason string }{
		{"forged", "bad_signature"},
		{strings.Repeat("a", 5000), "cookie_too_large"},
	} {
		_, _ = f.m.Load(context.Background(), tc.value)
		if len(got) != 1 || got[0].Type != tether.EventSessionRejected || len(got[0].Attrs) == 0 || got[0].Attrs[0].Value.String() != tc.reason {
			t.Errorf("events of Load(%.10q…): got %+v, want one session_rejected, reason %s", tc.value, got, tc.reason)
		}
		for _, e := range got {
			for _, a := range e.Attrs {
				if strings.Contains(a.Value.String(), tc.value) {
					t.Errorf("event %s carries the cookie value", e.Type)
				}
			}
		}
		got = nil
	}
	if _, err := f.m.Load(context.Background(), good); err != nil || len(got) != 0 {
		t.Errorf("Load of a good value: got %v and events %+v, want nil and none", err, got)
	}
}

// Events of the outside API carry the origin request's client IP and user
// agent when there is one, and none otherwise.
func TestLoadRequestEventsCarryOrigin(t *testing.T) {
	var events []tether.Event
	f := newOutsideFixture(t, "memstore", func(c *tether.Config) { c.OnEvent = func(e tether.Event) { events = append(events, e) } })
	c := f.session(t, "a", "1")
	origin := httptest.NewRequest("GET", "/ws", nil)
	origin.RemoteAddr = "192.0.2.7:4321"
	origin.Header.Set("User-Agent", "test-agent")
	origin.AddCookie(&http.Cookie{Name: f.m.CookieName(), Value: "not-this-one"})
	for _, tc := range []struct {
		name   string
		origin *http.Request
		ip, ua string
		user   string
	}{
		{"with origin", origin, "192.0.2.7", "test-agent", "u1"},
		{"without origin", nil, "", "", "u2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := f.m.LoadRequest(context.Background(), tc.origin, c)
			if err != nil {
				t.Fatalf("LoadRequest: %v", err)
			}
			if err := s.Login(tc.user, ""); err != nil {
				t.Fatal(err)
			}
			events = nil
			if c, err = s.Save(context.Background()); err != nil {
				t.Fatalf("Save: %v", err)
			}
			var types []string
			for _, e := range events {
				types = append(types, e.Type)
				if e.IP != tc.ip || e.UserAgent != tc.ua {
					t.Errorf("%s: got IP %q, user agent %q; want %q, %q", e.Type, e.IP, e.UserAgent, tc.ip, tc.ua)
				}
			}
			if !slices.Contains(types, tether.EventLoginSuccess) {
				t.Errorf("events: got %v, want login_success", types)
			}
		})
	}
	if origin.Header.Get("Cookie") != f.m.CookieName()+"=not-this-one" {
		t.Errorf("origin's Cookie header: got %q, want it untouched", origin.Header.Get("Cookie"))
	}
}

func TestRequestCookie(t *testing.T) {
	f := newOutsideFixture(t, "memstore", nil)
	name := f.m.CookieName()
	for _, tc := range []struct {
		name    string
		cookies []string
		want    string
		err     error
	}{
		{"none", nil, "", nil},
		{"one", []string{"v1"}, "v1", nil},
		{"two", []string{"v1", "v2"}, "", tether.ErrDuplicateCookie},
		{"oversized", []string{strings.Repeat("v", tether.DefaultMaxCookieBytes+1)}, "", tether.ErrCookieTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, v := range tc.cookies {
				r.AddCookie(&http.Cookie{Name: name, Value: v})
			}
			got, err := f.m.RequestCookie(r)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// FuzzLoad: whatever the value, Load does not panic, and a value it refuses
// as invalid or oversized costs no store call.
func FuzzLoad(f *testing.F) {
	fx := &fixture{mem: memstore.New(), clock: &clock{now: time.Now()}, events: &eventLog{}}
	fx.store = &countingStore{Store: fx.mem}
	m, err := tether.New(tether.Config{Store: fx.store, Secrets: [][]byte{secretA}, Now: fx.clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(testMux(nil)).ServeHTTP(rec, httptest.NewRequest("GET", "/set?k=a&v=1", nil))
	good := setCookie(rec, m.CookieName())
	if good == "" {
		f.Fatalf("GET /set: got no session cookie (%d %s)", rec.Code, rec.Body)
	}
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-1] + "A")
	f.Add(good + "; sid=" + good)
	f.Add(strings.Repeat(".", 87))
	f.Fuzz(func(t *testing.T, value string) {
		fx.store.reset()
		s, err := m.Load(context.Background(), value)
		switch {
		case errors.Is(err, tether.ErrInvalidCookie), errors.Is(err, tether.ErrCookieTooLarge):
			if got := fx.store.calls(); got != 0 {
				t.Errorf("store calls for a refused value: got %d, want 0", got)
			}
		case err == nil:
			if value != good {
				t.Errorf("Load(%q) succeeded; only %q names a session", value, good)
			}
			if _, err := s.Save(context.Background()); err != nil {
				t.Errorf("Save: %v", err)
			}
		}
	})
}

package tether_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func TestProductionCookieIsSecureHostOnly(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) {
		c.Production = true
		c.Store = fakePersistentStore{c.Store}
	})
	rec, _ := f.do(t, "/login", "")
	sc := rec.Header().Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-sid=") || !strings.Contains(sc, "; Secure") || strings.Contains(sc, "Domain") {
		t.Fatalf("production Set-Cookie: got %q, want __Host-sid with Secure and no Domain", sc)
	}
}

func TestCookieMaxAgeCappedByAbsoluteDeadline(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login?role=admin", "")
	f.clock.Add(25 * time.Minute)
	f.do(t, "/get", c)
	f.clock.Add(25 * time.Minute)
	rec, _ := f.do(t, "/get", c)
	if sc := rec.Header().Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=600") {
		t.Fatalf("10 minutes before the absolute deadline: got %q, want Max-Age=600", sc)
	}
}

// TestRollingCookieFollowsStoredDeadline guards against a cookie that
// outlives the stored session or dies before it: every response of a
// session carries the cookie, and its Max-Age is what is left of the stored
// idle deadline, also when the store skipped a small move (see Store) or the
// handler ran long before its response started.
func TestRollingCookieFollowsStoredDeadline(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	var slow time.Duration // how long the /slow handler takes before it writes
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).UserID()
		f.clock.Add(slow)
		_, _ = w.Write([]byte("done"))
	})
	mux.Handle("/", testMux(t))
	f.h = f.m.Handler(mux)
	steps := []struct {
		name    string
		advance time.Duration
		skip    bool
		slow    time.Duration
		path    string
		maxAge  int
	}{
		{"store moved the deadline", time.Second, false, 0, "/get", 1800},
		{"store skipped a small move", 400 * time.Millisecond, true, 0, "/get", 1800},
		{"skipped again, 0.9 s behind", 500 * time.Millisecond, true, 0, "/get", 1799},
		{"a change is saved", 100 * time.Millisecond, true, 0, "/set?k=a&v=1", 1799},
		{"moved again", 10 * time.Second, false, 0, "/get", 1800},
		{"handler ran 5 minutes before its response", time.Second, false, 5 * time.Minute, "/slow", 1500},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.clock.Add(st.advance)
			f.store.skipMoves.Store(st.skip)
			slow = st.slow
			rec, got := f.do(t, st.path, c)
			if rec.Code != 200 || got != c {
				t.Fatalf("GET %s: got %d with cookie %q, want 200 with the same token %q", st.path, rec.Code, got, c)
			}
			if sc, want := rec.Header().Get("Set-Cookie"), fmt.Sprintf("Max-Age=%d;", st.maxAge); !strings.Contains(sc, want) {
				t.Fatalf("Set-Cookie %q: want %s", sc, want)
			}
		})
	}
}

// Cache-Control and Vary values are shared between responses for speed; a
// handler that adds to them after the response started must not change what
// the next response gets.
func TestSharedSessionHeaderValuesStayPerResponse(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	first := true
	f.h = f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).UserID()
		w.WriteHeader(http.StatusOK)
		if first {
			first = false
			w.Header().Add("Vary", "Origin")
			w.Header().Add("Cache-Control", "private")
		}
	}))
	for i := range 2 {
		rec, _ := f.do(t, "/", c)
		sent := rec.Result().Header // as of WriteHeader
		if got := sent.Values("Vary"); len(got) != 1 || got[0] != "Cookie" {
			t.Fatalf("response %d: Vary %q, want [Cookie]", i, got)
		}
		if got := sent.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
			t.Fatalf("response %d: Cache-Control %q, want [no-store]", i, got)
		}
	}
}

func TestSecretRotation(t *testing.T) {
	store := memstore.New()
	old, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretA}})
	if err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	rotated, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretB, secretA}, OnEvent: events.add})
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretB}})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(m *tether.Manager, path, cookie string) (string, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		m.Handler(testMux(t)).ServeHTTP(rec, req)
		return rec.Body.String(), setCookie(rec, "sid")
	}
	_, c := serve(old, "/login", "")
	body, resigned := serve(rotated, "/get", c)
	if body != "user-1|" {
		t.Fatalf("old cookie after rotation: got %q, want still logged in", body)
	}
	if resigned == c || resigned == "" || resigned == "-" {
		t.Fatalf("old cookie after rotation: got Set-Cookie %q, want re-signed with the new secret", resigned)
	}
	// The re-signing is reported, once, so operators can tell when the old
	// secret is no longer in use (regression: EventSecretRotated was
	// declared but never emitted).
	if got := count(events.types(), tether.EventSessionResigned); got != 1 {
		t.Fatalf("session_resigned events after one old-secret request: got %d, want 1 (events %v)", got, events.types())
	}
	if _, again := serve(rotated, "/get", resigned); again != resigned {
		t.Fatalf("re-signed cookie: got Set-Cookie %q, want the same value back", again)
	}
	if got := count(events.types(), tether.EventSessionResigned); got != 1 {
		t.Fatalf("session_resigned after a current-secret request: got %d events, want still 1", got)
	}
	if body, _ := serve(dropped, "/get", resigned); body != "user-1|" {
		t.Fatalf("re-signed cookie once the old secret is dropped: got %q, want logged in", body)
	}
	if body, _ := serve(dropped, "/get", c); body != "|" {
		t.Fatalf("cookie signed only by a dropped secret: got %q, want rejected", body)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

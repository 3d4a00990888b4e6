package tether_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

func TestNoCookieNoStoreCall(t *testing.T) {
	f := newFixture(t, nil)
	rec, c := f.do(t, "/get?k=a", "")
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a request without a cookie: got %d, want 0", got)
	}
	if c != "" {
		t.Fatalf("Set-Cookie for an untouched anonymous request: got %q, want none", c)
	}
	if got := rec.Header().Get("Cache-Control"); got != "" {
		t.Fatalf("Cache-Control on a response that does not depend on a session: got %q, want none", got)
	}
}

func TestCreateThenReadCostsOneLoad(t *testing.T) {
	f := newFixture(t, nil)
	rec, c := f.do(t, "/set?k=a&v=1", "")
	if c == "" || c == "-" {
		t.Fatalf("first write: got cookie %q, want a new session cookie", c)
	}
	if got := f.store.creates.Load(); got != 1 {
		t.Fatalf("creates: got %d, want 1", got)
	}
	sc := rec.Header().Get("Set-Cookie")
	for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=1800"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q: missing %q", sc, want)
		}
	}
	for _, bad := range []string{"Domain", "Secure"} {
		if strings.Contains(sc, bad) {
			t.Errorf("Set-Cookie %q in development: has %q, want not", sc, bad)
		}
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
	if got := rec.Header().Get("Vary"); got != "Cookie" {
		t.Errorf("Vary: got %q, want Cookie", got)
	}
	if !f.events.has(tether.EventSessionCreated) {
		t.Errorf("events %v: want %s", f.events.types(), tether.EventSessionCreated)
	}

	f.store.reset()
	rec, c2 := f.do(t, "/get?k=a", c)
	if got := rec.Body.String(); got != "|1" {
		t.Fatalf("read back: got %q, want %q", got, "|1")
	}
	if got, want := f.store.calls(), int64(1); got != want {
		t.Fatalf("store calls for an unchanged session: got %d, want %d (one Load)", got, want)
	}
	if c2 != c {
		t.Fatalf("rolling cookie: got %q, want the same value refreshed", c2)
	}
}

func TestChangeCostsTwoCalls(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/set?k=a&v=1", "")
	f.store.reset()
	f.do(t, "/set?k=b&v=2", c)
	if got := f.store.calls(); got != 2 {
		t.Fatalf("store calls for a change: got %d, want 2 (Load + Update)", got)
	}
	f.store.reset()
	f.do(t, "/incr", c)
	if got := f.store.calls(); got != 1 {
		t.Fatalf("store calls for an Incr that is the first use: got %d, want 1 (Update, which also refreshes the idle deadline)", got)
	}
	f.store.reset()
	f.do(t, "/noop", c)
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a handler that never uses its session: got %d, want 0", got)
	}
}

func TestTamperedCookieNeverReachesStore(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.store.reset()
	b := []byte(c)
	b[5] ^= 1
	if b[5] == '.' || b[5] > 'z' {
		b[5] = 'A'
	}
	rec, c2 := f.do(t, "/get", string(b))
	if got := f.store.calls(); got != 0 {
		t.Fatalf("store calls for a tampered cookie: got %d, want 0", got)
	}
	if rec.Body.String() != "|" {
		t.Fatalf("tampered cookie: got user %q, want anonymous", rec.Body.String())
	}
	if c2 != "-" {
		t.Fatalf("tampered cookie: got Set-Cookie %q, want it expired", c2)
	}
	if !f.events.has(tether.EventSessionRejected) {
		t.Fatalf("events %v: want %s", f.events.types(), tether.EventSessionRejected)
	}
}

func TestLoginRegenerates(t *testing.T) {
	f := newFixture(t, nil)
	_, pre := f.do(t, "/set?k=cart&v=3", "")
	f.store.reset()
	rec, post := f.do(t, "/login", pre)
	if post == "" || post == pre {
		t.Fatalf("login: got cookie %q, want a new one (was %q)", post, pre)
	}
	if got := f.store.calls(); got != 4 {
		t.Fatalf("store calls for login: got %d, want 4 (Load, Update of the old record, Create, Delete)", got)
	}
	if rec.Body.String() != "in" {
		t.Fatalf("login body: got %q", rec.Body.String())
	}
	rec, _ = f.do(t, "/get?k=cart", post)
	if got := rec.Body.String(); got != "user-1|3" {
		t.Fatalf("after login: got %q, want user and carried-over data %q", got, "user-1|3")
	}
	rec, c := f.do(t, "/get?k=cart", pre)
	if got := rec.Body.String(); got != "|" || c != "-" {
		t.Fatalf("pre-login cookie after login: got %q (cookie %q), want anonymous and expired", got, c)
	}
	for _, e := range []string{tether.EventSessionRegenerated, tether.EventLoginSuccess} {
		if !f.events.has(e) {
			t.Errorf("events %v: want %s", f.events.types(), e)
		}
	}
}

func TestRegenerateKeepsAbsoluteDeadline(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.IdleTimeout = 8 * time.Hour })
	_, c := f.do(t, "/set?k=a&v=1", "")
	f.clock.Add(7 * time.Hour)
	_, c2 := f.do(t, "/regen", c)
	if c2 == c || c2 == "" {
		t.Fatalf("regenerate: got cookie %q, want a new one", c2)
	}
	f.clock.Add(61 * time.Minute)
	rec, _ := f.do(t, "/get?k=a", c2)
	if got := rec.Body.String(); got != "|" {
		t.Fatalf("8h01m after creation with a regenerated token: got %q, want the session expired", got)
	}
	if !f.events.has(tether.EventAbsoluteTimeout) {
		t.Fatalf("events %v: want %s", f.events.types(), tether.EventAbsoluteTimeout)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	rec, c2 := f.do(t, "/logout", c)
	if c2 != "-" {
		t.Fatalf("logout: got cookie %q, want expired", c2)
	}
	if got := rec.Header().Get("Clear-Site-Data"); got != `"cookies"` {
		t.Fatalf("Clear-Site-Data: got %q, want %q", got, `"cookies"`)
	}
	if f.mem.Len() != 0 {
		t.Fatalf("records after logout: got %d, want 0", f.mem.Len())
	}
	rec, _ = f.do(t, "/get", c)
	if rec.Body.String() != "|" {
		t.Fatalf("old cookie after logout: got %q, want anonymous", rec.Body.String())
	}
	if !f.events.has(tether.EventLogout) {
		t.Fatalf("events %v: want logout", f.events.types())
	}
}

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name  string
		role  string
		steps []time.Duration // waits between requests, each followed by a request
		alive []bool
		event string
	}{
		{"idle refreshes on activity", "", []time.Duration{29 * time.Minute, 29 * time.Minute, 29 * time.Minute}, []bool{true, true, true}, ""},
		{"idle timeout", "", []time.Duration{31 * time.Minute}, []bool{false}, tether.EventIdleTimeout},
		{"absolute timeout despite activity", "", repeat(20*time.Minute, 25), append(repeatBool(true, 23), false, false), tether.EventAbsoluteTimeout},
		{"admin absolute timeout is shorter", "admin", repeat(20*time.Minute, 3), []bool{true, true, false}, tether.EventAbsoluteTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/login?role="+tc.role, "")
			for i, d := range tc.steps {
				f.clock.Add(d)
				rec, _ := f.do(t, "/get", c)
				alive := rec.Body.String() == "user-1|"
				if alive != tc.alive[i] {
					t.Fatalf("request %d after %v: got alive=%v, want %v", i+1, d, alive, tc.alive[i])
				}
			}
			if tc.event != "" && !f.events.has(tc.event) {
				t.Fatalf("events %v: want %s", f.events.types(), tc.event)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func repeatBool(b bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = b
	}
	return out
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

func TestSecretRotation(t *testing.T) {
	store := memstore.New()
	old, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretA}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretB, secretA}})
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
	if body, _ := serve(dropped, "/get", resigned); body != "user-1|" {
		t.Fatalf("re-signed cookie once the old secret is dropped: got %q, want logged in", body)
	}
	if body, _ := serve(dropped, "/get", c); body != "|" {
		t.Fatalf("cookie signed only by a dropped secret: got %q, want rejected", body)
	}
}

func TestBadCookies(t *testing.T) {
	f := newFixture(t, nil)
	_, good := f.do(t, "/login", "")
	cases := []struct {
		name    string
		cookies []string
		status  int
	}{
		{"duplicate cookies", []string{good, good}, 400},
		{"duplicate cookies, one forged", []string{"x", good}, 400},
		{"oversized cookie", []string{strings.Repeat("A", 5000)}, 431},
		{"garbage", []string{"%%%"}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.store.reset()
			req := httptest.NewRequest("GET", "/get", nil)
			for _, c := range tc.cookies {
				req.Header.Add("Cookie", "sid="+c)
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status: got %d, want %d", rec.Code, tc.status)
			}
			if tc.status >= 400 {
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
					t.Fatalf("body: got %q, want {\"error\":…}", rec.Body.String())
				}
				if f.store.calls() != 0 {
					t.Fatalf("store calls: got %d, want 0", f.store.calls())
				}
			}
		})
	}
}

func TestStoreDownIs503NotLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.store.down.Store(true)
	for _, path := range []string{"/get", "/set?k=a&v=1", "/logout", "/incr"} {
		rec, c2 := f.do(t, path, c)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s with store down: got %d %q, want 503", path, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), `"error":"Session store unavailable"`) {
			t.Fatalf("%s body: got %q", path, rec.Body.String())
		}
		if c2 != "" {
			t.Fatalf("%s with store down: got Set-Cookie %q, want the client's cookie left alone", path, c2)
		}
	}
	f.store.down.Store(false)
	if rec, _ := f.do(t, "/get", c); rec.Body.String() != "user-1|" {
		t.Fatalf("after the store returns: got %q, want still logged in", rec.Body.String())
	}
	// A new session whose Create fails is a 503 as well.
	f.store.down.Store(true)
	if rec, _ := f.do(t, "/set?k=a&v=1", ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("create with store down: got %d, want 503", rec.Code)
	}
}

// Guards against resurrection (DESIGN guarantee 2): a request that loaded the
// session before a concurrent logout must not re-create it when it saves.
func TestNoResurrectionAfterConcurrentLogout(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	loaded := make(chan struct{})
	release := make(chan struct{})
	slow := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tether.FromContext(r.Context()).UserID() != "user-1" { // loads the session
			t.Error("slow request: not logged in")
		}
		close(loaded)
		<-release
		_ = tether.FromContext(r.Context()).Set("late", "write")
		_, _ = w.Write([]byte("saved?"))
	}))
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "sid", Value: c})
		rec := httptest.NewRecorder()
		slow.ServeHTTP(rec, req)
		done <- rec
	}()
	<-loaded
	f.do(t, "/logout", c)
	close(release)
	rec := <-done
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("in-flight write after logout: got %d %q, want 401", rec.Code, rec.Body.String())
	}
	if f.mem.Len() != 0 {
		t.Fatalf("records after logout and in-flight write: got %d, want 0", f.mem.Len())
	}
	if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
		t.Fatalf("old cookie: got %q, want anonymous", got.Body.String())
	}
}

// DESIGN guarantee 3: concurrent increments are never lost, and concurrent
// writes of different keys keep each other's changes.
func TestConcurrentChanges(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/incr", "")
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if rec, _ := f.do(t, "/incr", c); rec.Code != 200 {
				t.Errorf("incr: got %d", rec.Code)
			}
			if i < 20 {
				f.do(t, fmt.Sprintf("/set?k=k%d&v=%d", i, i), c)
			}
		}(i)
	}
	wg.Wait()
	var n int64
	f.h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/noop", nil))
	rec, _ := f.do(t, "/incr", c)
	fmt.Sscan(rec.Body.String(), &n)
	if n != 202 {
		t.Fatalf("counter after 1 + 200 concurrent + 1 increments: got %d, want 202", n)
	}
	for i := 0; i < 20; i++ {
		if rec, _ := f.do(t, fmt.Sprintf("/get?k=k%d", i), c); rec.Body.String() != fmt.Sprintf("|%d", i) {
			t.Fatalf("key k%d: got %q, want %q", i, rec.Body.String(), fmt.Sprintf("|%d", i))
		}
	}
}

func TestValueSizeLimit(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.MaxValueBytes = 100 })
	rec, _ := f.do(t, "/set?k=a&v="+strings.Repeat("x", 200), "")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "too large") {
		t.Fatalf("oversized value: got %d %q, want the Set error", rec.Code, rec.Body.String())
	}
}

// Events never carry a token, cookie value or store key.
func TestEventsCarryNoSecrets(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.do(t, "/incr", c)
	f.do(t, "/get", c+"x")
	f.do(t, "/logout", c)
	var buf bytes.Buffer
	for _, e := range f.events.events {
		fmt.Fprintf(&buf, "%+v\n", e)
	}
	tok := c[:strings.IndexByte(c, '.')]
	mac := c[strings.IndexByte(c, '.')+1:]
	for _, secret := range []string{c, tok, mac, string(secretA)} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("events contain a secret %q:\n%s", secret, buf.String())
		}
	}
	for _, e := range f.events.events {
		if e.Type == tether.EventLogout && (e.UserID != "user-1" || e.Session == "") {
			t.Fatalf("logout event: got %+v, want userId and session handle", e)
		}
	}
}

func TestHandlerThatWritesNothingStillSaves(t *testing.T) {
	f := newFixture(t, nil)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("a", 1)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if setCookie(rec, "sid") == "" || f.mem.Len() != 1 {
		t.Fatalf("silent handler: got cookie %q and %d records, want a saved session", setCookie(rec, "sid"), f.mem.Len())
	}
}

func TestIncrOfNonInteger(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(fmt.Sprintf("incr is first use: %v", first), func(t *testing.T) {
			f := newFixture(t, nil)
			_, c := f.do(t, "/set?k=n&v=abc", "")
			path := "/incr"
			h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				if !first {
					_ = s.UserID()
				}
				_, err := s.Incr(r.Context(), "n", 1)
				tether.DefaultErrorHandler(w, r, err)
			}))
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 500 {
				t.Fatalf("Incr of a string: got %d %q, want 500", rec.Code, rec.Body.String())
			}
			if got, _ := f.do(t, "/get?k=n", c); got.Body.String() != "|abc" {
				t.Fatalf("value after a failed Incr: got %q, want unchanged", got.Body.String())
			}
		})
	}
}

func TestReauthenticate(t *testing.T) {
	f := newFixture(t, nil)
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Reauthenticate(); err != nil {
			tether.DefaultErrorHandler(w, r, err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/reauth", nil))
	if rec.Code != 401 {
		t.Fatalf("anonymous reauth: got %d, want 401", rec.Code)
	}
	_, c := f.do(t, "/login", "")
	f.clock.Add(20 * time.Minute)
	req := httptest.NewRequest("POST", "/reauth", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	c2 := setCookie(rec, "sid")
	if rec.Code != 200 || c2 == "" || c2 == c {
		t.Fatalf("reauth: got %d, cookie %q; want 200 and a new token", rec.Code, c2)
	}
	var authAt, abs time.Time
	probe := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		authAt = s.AuthenticatedAt()
		_, abs = s.Deadlines()
	}))
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c2})
	probe.ServeHTTP(httptest.NewRecorder(), req)
	if !authAt.Equal(f.clock.Now()) {
		t.Fatalf("AuthenticatedAt after reauth: got %v, want %v", authAt, f.clock.Now())
	}
	if want := f.clock.Now().Add(-20 * time.Minute).Add(8 * time.Hour); !abs.Equal(want) {
		t.Fatalf("absolute deadline after reauth: got %v, want unchanged %v", abs, want)
	}
	if got, _ := f.do(t, "/get", c); got.Body.String() != "|" {
		t.Fatalf("old token after reauth: got %q, want anonymous", got.Body.String())
	}
}

func TestUserSessions(t *testing.T) {
	f := newFixture(t, nil)
	_, c1 := f.do(t, "/login", "")
	f.clock.Add(time.Second)
	_, c2 := f.do(t, "/login", "")
	list, err := f.m.UserSessions(context.Background(), "user-1")
	if err != nil || len(list) != 2 || !list[0].CreatedAt.Before(list[1].CreatedAt) {
		t.Fatalf("UserSessions: got %+v %v, want 2, oldest first", list, err)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1", "0000000000000000"); n != 0 {
		t.Fatalf("unknown id: ended %d, want 0", n)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-2", list[0].ID); n != 0 {
		t.Fatalf("another user's id: ended %d, want 0", n)
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1", list[0].ID); n != 1 {
		t.Fatalf("one id: ended %d, want 1", n)
	}
	if got, _ := f.do(t, "/get", c1); got.Body.String() != "|" {
		t.Fatalf("ended session: got %q, want anonymous", got.Body.String())
	}
	if got, _ := f.do(t, "/get", c2); got.Body.String() != "user-1|" {
		t.Fatalf("other session: got %q, want still logged in", got.Body.String())
	}
	if n, _ := f.m.EndUserSessions(context.Background(), "user-1"); n != 1 {
		t.Fatalf("all: ended %d, want 1", n)
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

// A save that fails replaces the handler's response with an error, and drops
// the headers the handler prepared for it; the headers outer middleware set
// before the Manager (security headers) stay, so a custom HTML error page
// still carries its Content-Security-Policy and X-Frame-Options.
func TestFailedSaveKeepsOuterHeaders(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<h1>Try again</h1>"))
		}
	})
	_, c := f.do(t, "/login", "")
	inner := f.h
	f.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		inner.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/save", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("k", "v")
		w.Header().Set("Location", "/done")
		w.Header().Set("X-Handler", "saved")
		w.WriteHeader(http.StatusSeeOther)
	})
	inner = f.m.Handler(mux)
	f.store.down.Store(true)
	rec, _ := f.do(t, "/save", c)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status: got %d, want 503", rec.Code)
	}
	h := rec.Result().Header
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'",
		"Content-Type": "text/html; charset=utf-8", "Location": "", "X-Handler": "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

package tether_test

import (
	"errors"
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
	if _, nc := f.do(t, "/get", c); nc != "" {
		c = nc // renewed (Config.RenewInterval)
	}
	f.clock.Add(25 * time.Minute)
	rec, _ := f.do(t, "/get", c)
	if sc := rec.Header().Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=600") {
		t.Fatalf("10 minutes before the absolute deadline: got %q, want Max-Age=600", sc)
	}
}

// TestRollingCookieFollowsStoredDeadline guards against a cookie that
// outlives the stored session or dies before it: when a rolling response
// sends the cookie, its Max-Age is what is left of the stored idle deadline,
// counted when the response starts (also when the handler ran long), and a
// response sends it only when that deadline moved by a minute or more since
// the cookie the browser holds was sent.
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
		name      string
		advance   time.Duration
		skip      bool
		slow      time.Duration
		path      string
		want      string // cookieSent
		wantCalls int64
	}{
		{"moved by 59 s: not sent", 59 * time.Second, false, 0, "/get", "", 1},
		{"moved by 60 s: sent, its expiry saved", time.Second, false, 0, "/get", "max=1800", 2},
		{"store skipped a small move", 400 * time.Millisecond, true, 0, "/get", "", 1},
		{"a change within the minute", 100 * time.Millisecond, false, 0, "/set?k=a&v=1", "", 2},
		{"a change a minute later carries the expiry", time.Minute, false, 0, "/set?k=a&v=2", "max=1800", 2},
		{"store skipped a minute's move", time.Minute, true, 0, "/get", "", 1},
		{"handler ran 5 minutes before its response", time.Minute, false, 5 * time.Minute, "/slow", "max=1500", 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.clock.Add(st.advance)
			f.store.skipMoves.Store(st.skip)
			slow = st.slow
			f.store.reset()
			rec, got := f.do(t, st.path, c)
			if rec.Code != 200 || (got != "" && got != c) {
				t.Fatalf("GET %s: got %d with cookie %q, want 200 with the same token or none", st.path, rec.Code, got)
			}
			if sent := cookieSent(t, rec); sent != st.want {
				t.Fatalf("Set-Cookie %q (%s): want %s", rec.Header().Values("Set-Cookie"), sent, orNone(st.want))
			}
			if got := f.store.calls(); got != st.wantCalls {
				t.Fatalf("store calls: got %d, want %d", got, st.wantCalls)
			}
		})
	}
}

// A session used every 20 seconds for an hour: the cookie the browser holds
// never expires more than a minute before the session does, and re-sending
// it costs one store write a minute, not one a request.
func TestRollingCookieNeverFallsBehind(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.AbsoluteTimeout = 2 * time.Hour })
	rec, c := f.do(t, "/login", "")
	maxAge := func(rec *httptest.ResponseRecorder) time.Duration {
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == "sid" {
				return time.Duration(ck.MaxAge) * time.Second
			}
		}
		return -1
	}
	browserExpiry := f.clock.Now().Add(maxAge(rec))
	f.store.reset()
	const requests = 180
	sent := 0
	for i := range requests {
		f.clock.Add(20 * time.Second)
		now := f.clock.Now()
		if !now.Before(browserExpiry) {
			t.Fatalf("request %d: the browser's cookie expired at %v, the session is live", i, browserExpiry)
		}
		rec, nc := f.do(t, "/get", c)
		if rec.Body.String() != "user-1|" {
			t.Fatalf("request %d: got %q, want logged in", i, rec.Body.String())
		}
		if nc != "" {
			c = nc // renewed (Config.RenewInterval)
		}
		if d := maxAge(rec); d >= 0 {
			sent++
			browserExpiry = now.Add(d)
		}
		if lag := now.Add(30 * time.Minute).Sub(browserExpiry); lag >= time.Minute {
			t.Fatalf("request %d: the browser's cookie expires %v before the session", i, lag)
		}
	}
	// One Load a request, and one Update a minute for the new expiry.
	if want := requests / 3; sent != want {
		t.Fatalf("cookies sent over %d requests in an hour: got %d, want %d (one a minute)", requests, sent, want)
	}
	if got, want := f.store.calls(), int64(requests+sent); got != want {
		t.Fatalf("store calls: got %d, want %d (%d Loads and %d Updates)", got, want, requests, sent)
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
	if _, again := serve(rotated, "/get", resigned); again != "" {
		t.Fatalf("re-signed cookie, a moment later: got Set-Cookie %q, want none (nothing to re-send)", again)
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

// cookieSent describes the session cookie of a response: "" for none, "-"
// for an expiring one, "session" for one without Max-Age or Expires, and
// "max=N" for a Max-Age of N seconds.
func cookieSent(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var found []string
	for _, sc := range rec.Header().Values("Set-Cookie") {
		if !strings.HasPrefix(sc, "sid=") {
			continue
		}
		found = append(found, sc)
	}
	switch {
	case len(found) == 0:
		return ""
	case len(found) > 1:
		t.Fatalf("Set-Cookie: got %q, want at most one session cookie", found)
	}
	sc := found[0]
	if strings.HasPrefix(sc, "sid=;") {
		return "-"
	}
	if strings.Contains(sc, "Expires=") {
		return "expires:" + sc
	}
	_, after, ok := strings.Cut(sc, "; Max-Age=")
	if !ok {
		return "session"
	}
	n, _, _ := strings.Cut(after, ";")
	return "max=" + n
}

// The cookie modes: which events send Set-Cookie, and with what lifetime
// (idle 30 minutes, absolute 8 hours).
func TestCookieModes(t *testing.T) {
	type step struct {
		event   string
		advance time.Duration
		path    string
		want    string
	}
	steps := func(unchanged, small, large, login string) []step {
		return []step{
			{"new session", 0, "/set?k=a&v=1", ""}, // filled below
			{"unchanged request", 0, "/get", unchanged},
			{"deadline move < 1 min", 30 * time.Second, "/get", small},
			{"deadline move >= 1 min", 61 * time.Second, "/get", large},
			{"login (rotation)", time.Minute, "/login", login},
			{"logout", time.Minute, "/logout", "-"},
		}
	}
	cases := []struct {
		mode  string
		first string
		steps []step
	}{
		{"rolling", "max=1800", steps("", "", "max=1800", "max=1800")},
		{"session", "session", steps("", "", "", "session")},
		{"persistent", "max=28800", steps("", "", "", "max=28800")},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			f := newFixture(t, func(c *tether.Config) { setCookieMode(t, c, tc.mode) })
			c := ""
			for i, st := range tc.steps {
				want := st.want
				if i == 0 {
					want = tc.first
				}
				f.clock.Add(st.advance)
				rec, got := f.do(t, st.path, c)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d, want 200", st.event, rec.Code)
				}
				if sent := cookieSent(t, rec); sent != want {
					t.Fatalf("%s: got Set-Cookie %q (%s), want %s", st.event, rec.Header().Values("Set-Cookie"), sent, orNone(want))
				}
				if got != "" && got != "-" {
					c = got
				}
			}
		})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Session.SetPersistent ("remember me") moves one session between a
// browser-session cookie and a persistent one; the choice is stored, so
// later responses (and a new token) keep it.
func TestSetPersistent(t *testing.T) {
	for _, mode := range []string{"session", "rolling", "persistent"} {
		t.Run("config "+mode, func(t *testing.T) {
			f := newFixture(t, func(c *tether.Config) { setCookieMode(t, c, mode) })
			mux := http.NewServeMux()
			mux.Handle("/", testMux(t))
			var gotMode tether.CookieMode
			mux.HandleFunc("GET /remember", func(w http.ResponseWriter, r *http.Request) {
				s := tether.FromContext(r.Context())
				if err := s.SetPersistent(r.URL.Query().Get("on") == "1"); err != nil {
					t.Errorf("SetPersistent: %v", err)
				}
				gotMode = s.CookieMode()
			})
			mux.HandleFunc("GET /mode", func(w http.ResponseWriter, r *http.Request) {
				gotMode = tether.FromContext(r.Context()).CookieMode()
			})
			f.h = f.m.Handler(mux)
			_, c := f.do(t, "/login", "")
			steps := []struct {
				name     string
				advance  time.Duration
				path     string
				want     string
				wantMode tether.CookieMode
			}{
				{"remember me", time.Minute, "/remember?on=1", "max=28740", tether.CookiePersistent},
				{"later request keeps it", 10 * time.Minute, "/mode", "", tether.CookiePersistent},
				{"same choice again sends nothing", time.Minute, "/remember?on=1", "", tether.CookiePersistent},
				{"rotation keeps it", time.Minute, "/regen", "max=28020", tether.CookiePersistent},
				{"forget me", time.Minute, "/remember?on=0", "session", tether.CookieSession},
				{"later request keeps that", 2 * time.Minute, "/mode", "", tether.CookieSession},
				{"login keeps it", time.Minute, "/login", "session", tether.CookieSession},
			}
			if mode == "persistent" {
				steps[0].want = "" // already persistent: nothing changes
			}
			for _, st := range steps {
				f.clock.Add(st.advance)
				gotMode = -1
				rec, got := f.do(t, st.path, c)
				if sent := cookieSent(t, rec); sent != st.want {
					t.Fatalf("%s: got Set-Cookie %q (%s), want %s", st.name, rec.Header().Values("Set-Cookie"), sent, orNone(st.want))
				}
				if st.path != "/regen" && st.path != "/login" && gotMode != st.wantMode {
					t.Fatalf("%s: CookieMode() = %v, want %v", st.name, gotMode, st.wantMode)
				}
				if got != "" && got != "-" {
					c = got
				}
			}
		})
	}
	t.Run("after logout", func(t *testing.T) {
		f := newFixture(t, nil)
		var err error
		f.h = f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := tether.FromContext(r.Context())
			s.Logout()
			err = s.SetPersistent(true)
		}))
		f.do(t, "/", "")
		if !errors.Is(err, tether.ErrSessionDestroyed) {
			t.Fatalf("SetPersistent after Logout: got %v, want ErrSessionDestroyed", err)
		}
	})
}

// Path and Partitioned (CHIPS) reach the cookie, the expiring one included.
func TestCookiePathAndPartitioned(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) {
		c.Path = "/app"
		c.Secure = true
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = true
	})
	rec, c := f.do(t, "/set?k=a&v=1", "")
	want := "; Path=/app; Max-Age=1800; HttpOnly; Secure; SameSite=None; Partitioned"
	if sc := rec.Header().Get("Set-Cookie"); !strings.HasSuffix(sc, want) {
		t.Fatalf("Set-Cookie: got %q, want it to end with %q", sc, want)
	}
	rec, _ = f.do(t, "/logout", c)
	want = "; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned"
	if sc := rec.Header().Get("Set-Cookie"); !strings.HasSuffix(sc, want) {
		t.Fatalf("logout Set-Cookie: got %q, want it to end with %q (a cookie is removed only with the attributes it was set with)", sc, want)
	}
}

func TestParseCookieMode(t *testing.T) {
	for _, m := range []tether.CookieMode{tether.CookieRolling, tether.CookieSession, tether.CookiePersistent} {
		got, err := tether.ParseCookieMode(m.String())
		if err != nil || got != m {
			t.Fatalf("ParseCookieMode(%q): got %v, %v; want %v", m.String(), got, err, m)
		}
	}
	for _, bad := range []string{"", "Rolling", "remember", "persistent "} {
		if _, err := tether.ParseCookieMode(bad); err == nil || !strings.Contains(err.Error(), "rolling, session or persistent") {
			t.Fatalf("ParseCookieMode(%q): got %v, want an error listing the modes", bad, err)
		}
	}
}

// BenchmarkReadSessionRecheck measures what the stale-token guard costs: a
// request whose handler runs for under a second (fast) makes one Load, as
// before; one that runs longer (slow, a long poll) adds one empty Update
// before it re-sends its unchanged token. calls/op counts store calls.
func BenchmarkReadSessionRecheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		ran  time.Duration
	}{{"fast", 0}, {"slow", 2 * time.Second}} {
		b.Run(tc.name, func(b *testing.B) {
			clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			store := &countingStore{Store: memstore.New()}
			// Renewal off: the same cookie is replayed for hours of clock.
			m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretA}, Now: clk.Now, AbsoluteTimeout: 1 << 62, RenewInterval: tether.RenewOff})
			if err != nil {
				b.Fatal(err)
			}
			rec := httptest.NewRecorder()
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = tether.FromContext(r.Context()).Login("user-1001", "")
			})).ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tether.FromContext(r.Context()).UserID() == "" {
					b.Fatal("not logged in")
				}
				clk.Add(tc.ran)
				_, _ = w.Write([]byte("{}"))
			}))
			req := httptest.NewRequest("GET", "/profile", nil)
			req.AddCookie(&http.Cookie{Name: "sid", Value: setCookie(rec, "sid")})
			store.reset()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(&nopWriter{h: http.Header{}}, req)
			}
			b.ReportMetric(float64(store.calls())/float64(b.N), "calls/op")
		})
	}
}

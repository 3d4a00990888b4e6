package redisstore_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/internal/testenv/tcpproxy"
	"github.com/tetherhq/tether/redisstore"
)

// Unsafe methods and the routes Config.FreshRead names always read the
// session from Redis (issue 13, point 2). Instance b reaches Redis through
// a proxy; with a warm cache the proxy stalls, so a cached read still
// answers and a fresh one cannot (503 after the store timeout): the
// answers tell which reads used the cache.
func TestManagerFreshReads(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	secrets := [][]byte{bytes.Repeat([]byte("k"), 32)}
	a := openCached(t, srv.Addr, "p:", redisstore.Options{})
	proxy := tcpproxy.Start(t, srv.Addr)
	b, c, err := redisstore.OpenRueidis(rueidis.ClientOption{InitAddress: []string{proxy.Addr}}, redisstore.Options{Prefix: "p:", CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	newHandler := func(s tether.Store) http.Handler {
		m, err := tether.New(tether.Config{Store: s, Secrets: secrets, StoreTimeout: 300 * time.Millisecond,
			FreshRead: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/sensitive") }})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			_ = tether.FromContext(r.Context()).Login("user-1001", "")
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(tether.FromContext(r.Context()).UserID()))
		})
		return m.Handler(mux)
	}
	ha, hb := newHandler(a), newHandler(b)
	send := func(h http.Handler, method, path, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	login := send(ha, "POST", "/login", "")
	cookies := login.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatalf("login: no cookie (status %d)", login.Code)
	}
	cookie := cookies[0].Value
	for range 2 { // warm b's cache
		if r := send(hb, "GET", "/profile", cookie); r.Code != 200 || r.Body.String() != "user-1001" {
			t.Fatalf("warm GET /profile on b: got %d %q, want 200 user-1001", r.Code, r.Body)
		}
	}
	hits := b.CacheStats().Hits
	proxy.Stall()
	cases := []struct {
		method, path string
		wantCode     int
	}{
		// Cached reads first: a fresh read that times out may make rueidis
		// close the connection, and then no copy is trusted (connwatch.go).
		{"GET", "/profile", 200},     // served from the cache
		{"HEAD", "/profile", 200},    // a safe method too
		{"GET", "/other-page", 200},  // not named: cached
		{"POST", "/profile", 503},    // unsafe: read fresh, Redis unreachable
		{"DELETE", "/profile", 503},  // unsafe
		{"GET", "/sensitive/x", 503}, // Config.FreshRead
		{"GET", "/sensitivex", 503},  // the test's FreshRead matches by prefix
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := send(hb, tc.method, tc.path, cookie)
			if r.Code != tc.wantCode {
				t.Fatalf("got %d %q, want %d", r.Code, r.Body, tc.wantCode)
			}
		})
	}
	if got := b.CacheStats().Hits - hits; got != 3 {
		t.Errorf("cache hits while Redis was unreachable: got %d, want 3 (the safe, unnamed requests)", got)
	}
}

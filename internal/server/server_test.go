package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/passwords"
	"github.com/tetherhq/tether/internal/proxy"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/memstore"
)

// aliceDir is a user directory in a temporary file holding alice /
// correct-horse, hashed with parameters small enough for tests.
func aliceDir(t testing.TB) *users.SQLite {
	t.Helper()
	dir, err := users.Open(filepath.Join(t.TempDir(), "u.db"),
		passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	if _, err := dir.Add(context.Background(), "alice", "correct-horse", users.RoleUser); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sender returns a function that sends one request to h with a JSON body
// and the given session cookie ("" for none).
func sender(h http.Handler) func(method, path, body, cookie string) *httptest.ResponseRecorder {
	return func(method, path, body, cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
}

func newServer(t *testing.T, ready func(context.Context) error) http.Handler {
	t.Helper()
	dir := aliceDir(t)
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Manager: m, Users: dir, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

func TestNewRequiresManagerAndUsers(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New(Options{}): got nil error, want one")
	}
}

func TestRoutes(t *testing.T) {
	h := newServer(t, nil)
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string
	}{
		{"root", "GET", "/", "", "", 200, "Server is running."},
		{"healthz", "GET", "/healthz", "", "", 200, `{"status":"ok"}`},
		{"readyz", "GET", "/readyz", "", "", 200, `{"status":"ready"}`},
		{"profile anonymous", "GET", "/profile", "", "", 401, `{"error":"Not authenticated"}`},
		{"login json", "POST", "/login", "application/json", `{"username":"alice","password":"correct-horse"}`, 200, `{"ok":true,"user":"alice"}`},
		{"login form", "POST", "/login", "application/x-www-form-urlencoded; charset=utf-8", "username=alice&password=correct-horse", 200, `{"ok":true,"user":"alice"}`},
		{"login json charset", "POST", "/login", "application/json; charset=utf-8", `{"username":"alice","password":"correct-horse"}`, 200, `{"ok":true,"user":"alice"}`},
		{"wrong password", "POST", "/login", "application/json", `{"username":"alice","password":"nope-nope"}`, 401, `{"error":"Invalid credentials"}`},
		{"repeated form field", "POST", "/login", "application/x-www-form-urlencoded", "username=alice&username=bob&password=x", 400, ""},
		{"overlong username", "POST", "/login", "application/json", `{"username":"` + strings.Repeat("a", 65) + `","password":"x"}`, 400, ""},
		{"overlong password", "POST", "/login", "application/json", `{"username":"alice","password":"` + strings.Repeat("a", 1025) + `"}`, 400, ""},
		{"malformed form", "POST", "/login", "application/x-www-form-urlencoded", "username=%zz", 400, ""},
		{"multipart refused", "POST", "/login", "multipart/form-data; boundary=x", "--x--", 415, ""},
		{"405 has JSON", "GET", "/logout", "", "", 405, `{"error":"Method not allowed"}`},
		{"unsafe method without a CSRF token", "PUT", "/views", "", "", 403, `{"error":"Invalid CSRF token"}`},
		{"404 has JSON", "GET", "/admin", "", "", 404, `{"error":"Not found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || (tc.want != "" && strings.TrimSpace(rec.Body.String()) != tc.want) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
			if tc.status >= 400 && !strings.HasPrefix(rec.Body.String(), `{"error":`) {
				t.Fatalf("error body: got %q, want {\"error\":…}", rec.Body.String())
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Fatalf("X-Content-Type-Options: got %q, want nosniff", got)
			}
		})
	}
}

func TestReadyzFailsWhenAStoreIsDown(t *testing.T) {
	h := newServer(t, func(context.Context) error { return errors.New("connection refused") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("readyz with a store down: got %d %q, want 503 without internal details", rec.Code, rec.Body.String())
	}
}

func FuzzDecodeForm(f *testing.F) {
	f.Add("application/json", `{"username":"alice","password":"x"}`)
	f.Add("application/x-www-form-urlencoded", "username=alice&password=x")
	f.Add("application/json", `{"username":null}`)
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		var u, p string
		err := decodeForm(httptest.NewRecorder(), req, map[string]*string{"username": &u, "password": &p})
		var he *httpError
		if err != nil && (!errors.As(err, &he) || he.status < 400 || he.status > 499) {
			t.Fatalf("decodeForm(%q, %q): got %v, want nil or a 4xx httpError", ctype, body, err)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	for _, production := range []bool{false, true} {
		dir, _ := users.Open(filepath.Join(t.TempDir(), "u.db"), passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1))
		defer dir.Close()
		m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
		s, _ := New(Options{Manager: m, Users: dir, Production: production})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil)) // plain HTTP
		h := rec.Header()
		if got := h.Get("Strict-Transport-Security") != ""; got != production {
			t.Errorf("production=%v: HSTS present=%v, want %v (sent in production even over plain HTTP)", production, got, production)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("production=%v: CSP %q, X-Frame-Options %q", production, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"))
		}
	}
}

func TestPlainHTTPWarningInProduction(t *testing.T) {
	cases := []struct {
		name  string
		tp    string
		proto string
		warns int
	}{
		{"no trusted proxy", "", "https", 1}, // X-Forwarded-Proto from an untrusted peer is ignored
		{"trusted proxy says https", "127.0.0.1", "https", 0},
		{"trusted proxy says http", "127.0.0.1", "http", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			dir, _ := users.Open(filepath.Join(t.TempDir(), "u.db"), passwords.NewHasherWith(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1))
			defer dir.Close()
			m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
			tp, err := config.ParseTrustProxy(tc.tp)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := New(Options{Manager: m, Users: dir, Production: true, Proxy: proxy.New(tp), Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
			h := s.Handler()
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest("GET", "/healthz", nil)
				r.RemoteAddr = "127.0.0.1:5555"
				r.Header.Set("X-Forwarded-Proto", tc.proto)
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if got := strings.Count(logBuf.String(), "plain HTTP"); got != tc.warns {
				t.Fatalf("warnings after 3 requests: got %d, want %d\n%s", got, tc.warns, logBuf.String())
			}
			if tc.warns > 0 && !strings.Contains(logBuf.String(), "TRUST_PROXY") {
				t.Fatalf("warning does not say what to do: %s", logBuf.String())
			}
		})
	}
}

// A role change rotates the token (role_changed) and a disabled account's
// session ends, at the pace of the "last seen" refresh (here: every request).
func TestAccountRecheck(t *testing.T) {
	ctx := context.Background()
	dir := aliceDir(t)
	var events []string
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)},
		OnEvent: func(e tether.Event) { events = append(events, e.Type) }})
	s, _ := New(Options{Manager: m, Users: dir})
	s.seenEvery = 0
	send := sender(s.Handler())
	login := send("POST", "/login", `{"username":"alice","password":"correct-horse"}`, "")
	c := login.Result().Cookies()[0].Value
	if rec := send("GET", "/profile", "", c); rec.Code != 200 {
		t.Fatalf("profile: got %d", rec.Code)
	}
	_ = dir.SetRole(ctx, "alice", users.RoleAdmin)
	rec := send("GET", "/profile", "", c)
	var rotated string
	for _, ck := range rec.Result().Cookies() {
		rotated = ck.Value
	}
	if rec.Code != 200 || rotated == "" || rotated == c {
		t.Fatalf("after a role change: got %d with cookie %q, want 200 and a new token", rec.Code, rotated)
	}
	if send("GET", "/profile", "", c).Code != 401 {
		t.Fatal("the token from before the role change still works")
	}
	if !strings.Contains(strings.Join(events, ","), "role_changed") {
		t.Fatalf("events %v: want role_changed", events)
	}
	_ = dir.SetDisabled(ctx, "alice", true)
	if rec := send("GET", "/profile", "", rotated); rec.Code != 401 {
		t.Fatalf("after disabling: got %d, want 401", rec.Code)
	}
}

// flakyUsers is a user directory whose Get fails while down is set.
type flakyUsers struct {
	users.Directory
	down atomic.Bool
	gets atomic.Int64
}

func (f *flakyUsers) Get(ctx context.Context, name string) (users.User, error) {
	f.gets.Add(1)
	if f.down.Load() {
		return users.User{}, errors.New("connection refused")
	}
	return f.Directory.Get(ctx, name)
}

// Guards against dropping an admin's account-change flag before the change
// is applied: with the directory down, the flagged session gets 503 (never
// its old role) and keeps the flag, so the change lands once it is back.
func TestAccountChangeFailsClosed(t *testing.T) {
	ctx := context.Background()
	base := aliceDir(t)
	dir := &flakyUsers{Directory: base}
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
	s, _ := New(Options{Manager: m, Users: dir})
	do := sender(s.Handler())
	send := func(path, body, cookie string) *httptest.ResponseRecorder {
		if body != "" {
			return do("POST", path, body, cookie)
		}
		return do("GET", path, body, cookie)
	}
	c := send("/login", `{"username":"alice","password":"correct-horse"}`, "").Result().Cookies()[0].Value
	u, _ := base.Get(ctx, "alice")

	// Unflagged: the periodic re-check fails open while the directory is
	// down, at the once-a-minute pace, not on every request.
	dir.down.Store(true)
	s.seenEvery = 0
	if rec := send("/profile", "", c); rec.Code != 200 {
		t.Fatalf("unflagged request with the directory down: got %d, want 200", rec.Code)
	}
	s.seenEvery = time.Minute
	gets := dir.gets.Load()
	for range 3 {
		send("/profile", "", c)
	}
	if n := dir.gets.Load() - gets; n != 0 {
		t.Fatalf("directory calls in the minute after a failed re-check: got %d, want 0", n)
	}
	_ = base.SetRole(ctx, "alice", users.RoleAdmin)
	if n, err := m.SetUserSessions(ctx, u.ID, AccountChangedKey, 1); err != nil || n != 1 {
		t.Fatalf("flag: got %d %v", n, err)
	}
	for i := range 2 {
		if rec := send("/profile", "", c); rec.Code != 503 || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("flagged request %d with the directory down: got %d %s, want 503", i, rec.Code, rec.Body)
		}
	}
	dir.down.Store(false)
	rec := send("/profile", "", c)
	cookies := rec.Result().Cookies()
	if rec.Code != 200 || len(cookies) == 0 || cookies[0].Value == c {
		t.Fatalf("flagged request with the directory back: got %d and %d cookies, want 200 and a rotated token", rec.Code, len(cookies))
	}
	if rec := send("/profile", "", c); rec.Code != 401 {
		t.Fatalf("the token from before the role change: got %d, want 401", rec.Code)
	}
	rec = send("/profile", "", cookies[0].Value)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "sid" && ck.Value != cookies[0].Value {
			t.Fatal("the rotated token was rotated again: the flag outlived the change")
		}
	}
	if rec.Code != 200 {
		t.Fatalf("the rotated token: got %d, want 200", rec.Code)
	}
}

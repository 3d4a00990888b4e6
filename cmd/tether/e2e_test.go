package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is a `tether serve` running in-process on a free loopback port.
type instance struct {
	t      *testing.T
	base   string
	events *syncBuffer
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// env builds a getenv from key/value pairs; nothing else is visible.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

var listenRE = regexp.MustCompile(`Listening on (http://\S+)`)

// start runs `tether serve --demo` with getenv in dir and waits for /healthz.
func start(t *testing.T, dir string, getenv func(string) string, extra ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{t: t, events: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	args := append([]string{"serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir}, extra...)
	go func() {
		err := run(ctx, args, getenv, strings.NewReader(""), in.events, io.MultiWriter(in.stderr, pw))
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		in.done <- err
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case in.base = <-found:
	case err := <-in.done:
		t.Fatalf("server exited before listening: %v\nstderr:\n%s", err, in.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not print its address within 20s; stderr:\n%s", in.stderr)
	}
	t.Cleanup(in.stop)
	return in
}

// stop shuts the server down gracefully and checks that run returned nil.
func (in *instance) stop() {
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			in.t.Errorf("run after graceful shutdown: got %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		in.t.Errorf("server did not shut down within 15s")
	}
}

// client is one cookie jar: one browser, one device.
type client struct {
	t   *testing.T
	in  *instance
	jar *cookiejar.Jar
	hc  *http.Client
	ua  string // User-Agent of every request, when set
}

func (in *instance) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: in.t, in: in, jar: jar, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// sid returns the jar's session cookie value.
func (c *client) sid() string {
	u, _ := url.Parse(c.in.base)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == "sid" {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setSID(v string) {
	u, _ := url.Parse(c.in.base)
	c.jar.SetCookies(u, []*http.Cookie{{Name: "sid", Value: v, Path: "/"}})
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path, ctype, body string, hdr ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.in.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, strings.TrimSpace(string(b))}
}

func (c *client) get(path string) response { return c.do("GET", path, "", "") }

func (c *client) login(user, pw string) response {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return c.do("POST", "/login", "application/json", string(b))
}

func expect(t *testing.T, what string, got response, status int, body string) {
	t.Helper()
	if got.status != status || (body != "" && got.body != body) {
		t.Fatalf("%s: got %d %s, want %d %s", what, got.status, got.body, status, body)
	}
}

// TestWalkthrough replays the seed tutorial's curl walkthrough and the
// session guarantees against the real server.
func TestWalkthrough(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env())
	c := in.client()

	expect(t, "GET /", c.get("/"), 200, "Server is running.")
	expect(t, "views 1", c.get("/views"), 200, `{"views":1}`)
	expect(t, "views 2", c.get("/views"), 200, `{"views":2}`)
	pre := c.sid()
	if pre == "" {
		t.Fatal("no sid cookie after /views")
	}

	expect(t, "bad password", c.login("alice", "wrong-horse"), 401, `{"error":"Invalid credentials"}`)
	expect(t, "unknown user", c.login("mallory", "correct-horse"), 401, `{"error":"Invalid credentials"}`)
	if c.sid() != pre {
		t.Fatal("a failed login changed the session cookie")
	}

	r := c.login("alice", "correct-horse")
	expect(t, "login", r, 200, `{"ok":true,"user":"alice"}`)
	var sc string
	for _, v := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "sid=") {
			sc = v
		}
	}
	for _, want := range []string{"sid=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=1800"} {
		if !strings.Contains(sc, want) {
			t.Errorf("login Set-Cookie %q: missing %q", sc, want)
		}
	}
	post := c.sid()
	if post == pre || post == "" {
		t.Fatalf("login did not rotate the cookie")
	}
	expect(t, "profile", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
	expect(t, "views carried over the login", c.get("/views"), 200, `{"views":3}`)

	old := in.client()
	old.setSID(pre)
	expect(t, "pre-login cookie after login", old.get("/profile"), 401, `{"error":"Not authenticated"}`)
	expect(t, "pre-login cookie's counter is gone", old.get("/views"), 200, `{"views":1}`)

	tok := c.get("/csrf-token")
	var ct struct{ CSRFToken string }
	if err := json.Unmarshal([]byte(tok.body), &ct); err != nil || tok.status != 200 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ct.CSRFToken) {
		t.Fatalf("csrf-token: got %d %s, want {\"csrfToken\":<64 hex>}", tok.status, tok.body)
	}
	if again := c.get("/csrf-token"); again.body != tok.body {
		t.Fatalf("csrf-token is not stable within a session: %s then %s", tok.body, again.body)
	}

	tampered := in.client()
	b := []byte(post)
	b[10] = map[bool]byte{true: 'B', false: 'A'}[b[10] == 'A']
	tampered.setSID(string(b))
	expect(t, "tampered cookie", tampered.get("/profile"), 401, `{"error":"Not authenticated"}`)

	r = c.do("POST", "/logout", "", "")
	expect(t, "logout", r, 200, `{"ok":true}`)
	if got := r.header.Get("Clear-Site-Data"); got != `"cookies"` {
		t.Errorf("logout Clear-Site-Data: got %q", got)
	}
	expect(t, "profile after logout", c.get("/profile"), 401, `{"error":"Not authenticated"}`)
	replay := in.client()
	replay.setSID(post)
	expect(t, "replayed cookie after logout", replay.get("/profile"), 401, `{"error":"Not authenticated"}`)

	in.stop()
	ev := in.events.String()
	for _, e := range []string{"login_success", "login_failure", "logout", "session_regenerated", "session_rejected", "session_created"} {
		if !strings.Contains(ev, `"event":"`+e+`"`) {
			t.Errorf("events: no %s in\n%s", e, ev)
		}
	}
	checkEventLines(t, ev, pre, post)
	secret, err := os.ReadFile(filepath.Join(dir, "session.secret"))
	if err != nil {
		t.Fatalf("development secret: %v", err)
	}
	for _, s := range []string{strings.TrimSpace(string(secret)), "correct-horse", "wrong-horse"} {
		if strings.Contains(ev, s) {
			t.Fatalf("events contain a secret or password")
		}
	}
}

// checkEventLines checks every stdout line is a JSON event with the required
// fields and that no cookie value or token appears.
func checkEventLines(t *testing.T, out string, cookies ...string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		for _, k := range []string{"time", "event", "userId", "ip", "userAgent", "session"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event %s: missing %q", line, k)
			}
		}
	}
	for _, c := range cookies {
		if c == "" {
			continue
		}
		tok := c[:strings.IndexByte(c, '.')]
		if strings.Contains(out, c) || strings.Contains(out, tok) {
			t.Fatalf("events contain a cookie value or token")
		}
	}
}

func TestTimeoutsEndToEnd(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		in := start(t, t.TempDir(), env("SESSION_IDLE_TIMEOUT", "1s", "SESSION_ABSOLUTE_TIMEOUT", "1h"))
		c := in.client()
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		expect(t, "profile at once", c.get("/profile"), 200, "")
		// The client keeps sending the cookie after it expired in the
		// browser: the server's stored deadline must reject it anyway.
		sid := c.sid()
		time.Sleep(1500 * time.Millisecond)
		late := in.client()
		late.setSID(sid)
		expect(t, "profile after 1.5s idle", late.get("/profile"), 401, `{"error":"Not authenticated"}`)
		in.stop()
		if !strings.Contains(in.events.String(), `"event":"idle_timeout"`) {
			t.Fatalf("no idle_timeout event in\n%s", in.events)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		in := start(t, t.TempDir(), env("SESSION_IDLE_TIMEOUT", "2s", "SESSION_ABSOLUTE_TIMEOUT", "3s"))
		c := in.client()
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		sid := c.sid()
		// The cookie's Max-Age shrinks towards the absolute deadline, so the
		// jar would drop it first; send it by hand to test the server's clock.
		for i := 0; i < 2; i++ {
			time.Sleep(time.Second)
			active := in.client()
			active.setSID(sid)
			expect(t, fmt.Sprintf("active profile %d", i), active.get("/profile"), 200, "")
		}
		time.Sleep(1200 * time.Millisecond)
		late := in.client()
		late.setSID(sid)
		expect(t, "profile after 3.2s of activity", late.get("/profile"), 401, `{"error":"Not authenticated"}`)
		in.stop()
		if !strings.Contains(in.events.String(), `"event":"absolute_timeout"`) {
			t.Fatalf("no absolute_timeout event in\n%s", in.events)
		}
	})
}

func TestSecretRotationAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)

	in := start(t, dir, env("SESSION_SECRET", a))
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	signedByA := c.sid()
	in.stop()

	in = start(t, dir, env("SESSION_SECRET", b, "SESSION_SECRET_PREVIOUS", a))
	c2 := in.client()
	c2.setSID(signedByA)
	r := c2.get("/profile")
	expect(t, "cookie signed by the previous secret", r, 200, `{"userId":"user-1001","username":"alice"}`)
	signedByB := c2.sid()
	if signedByB == signedByA {
		t.Fatal("cookie signed by the previous secret was not re-signed")
	}
	in.stop()

	in = start(t, dir, env("SESSION_SECRET", b))
	cb, ca := in.client(), in.client()
	cb.setSID(signedByB)
	ca.setSID(signedByA)
	expect(t, "re-signed cookie once the previous secret is gone", cb.get("/profile"), 200, "")
	expect(t, "cookie signed only by a retired secret", ca.get("/profile"), 401, "")
}

func TestDevSecretPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, env())
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	sid := c.sid()
	in.stop()
	st, err := os.Stat(filepath.Join(dir, "session.secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("session.secret: got %v %v, want mode 0600", st, err)
	}
	in = start(t, dir, env())
	c = in.client()
	c.setSID(sid)
	expect(t, "session after restart", c.get("/profile"), 200, `{"userId":"user-1001","username":"alice"}`)
}

func TestBadInput(t *testing.T) {
	in := start(t, t.TempDir(), env())
	c := in.client()
	expect(t, "login", c.login("alice", "correct-horse"), 200, "")
	sid := c.sid()
	big := `{"username":"alice","password":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name   string
		method string
		path   string
		ctype  string
		body   string
		hdr    []string
		status int
	}{
		{"malformed JSON", "POST", "/login", "application/json", `{"username":`, nil, 400},
		{"JSON array", "POST", "/login", "application/json", `["alice"]`, nil, 400},
		{"number for a string", "POST", "/login", "application/json", `{"username":1,"password":"x"}`, nil, 400},
		{"wrong content type", "POST", "/login", "text/plain", `{"username":"alice","password":"correct-horse"}`, nil, 415},
		{"no content type", "POST", "/login", "", `{"username":"alice"}`, nil, 415},
		{"missing fields", "POST", "/login", "application/json", `{}`, nil, 400},
		{"body over 1 MiB", "POST", "/login", "application/json", big, nil, 413},
		{"oversized cookie", "GET", "/profile", "", "", []string{"Cookie", "sid=" + strings.Repeat("A", 8000)}, 431},
		{"duplicate cookies", "GET", "/profile", "", "", []string{"Cookie", "sid=" + sid + "; sid=" + sid}, 400},
		{"wrong method", "GET", "/login", "", "", nil, 405},
		{"unsafe method without a CSRF token", "DELETE", "/profile", "", "", nil, 403},
		{"unknown route", "GET", "/nope", "", "", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := in.client() // no jar cookies: headers are set by hand
			r := raw.do(tc.method, tc.path, tc.ctype, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
			}
			var e map[string]string
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e["error"] == "" {
				t.Fatalf("body: got %q, want {\"error\":\"…\"}", r.body)
			}
		})
	}
	expect(t, "form login still works", in.client().do("POST", "/login", "application/x-www-form-urlencoded", "username=alice&password=correct-horse"), 200, `{"ok":true,"user":"alice"}`)
	expect(t, "session unharmed", c.get("/profile"), 200, "")
}

func TestProductionRefusals(t *testing.T) {
	cases := []struct {
		name string
		env  func(string) string
		args []string
		want string
	}{
		{"no secret", env("APP_ENV", "production"), []string{"serve"}, "SESSION_SECRET"},
		{"short secret", env("APP_ENV", "production", "SESSION_SECRET", "too-short"), []string{"serve"}, "SESSION_SECRET"},
		{"demo user", env("APP_ENV", "production", "SESSION_SECRET", strings.Repeat("s", 64)), []string{"serve", "--demo"}, "--demo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--data-dir", t.TempDir(), "--port", "0", "--host", "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, args, tc.env, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "too-short") {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}

// TRUST_PROXY decides which client address events record; without it,
// X-Forwarded-For is ignored.
func TestTrustProxyDecidesClientIP(t *testing.T) {
	cases := []struct {
		name, trust, want string
	}{
		{"no proxy trusted", "", `"ip":"127.0.0.1"`},
		{"one trusted hop", "1", `"ip":"198.51.100.7"`},
		{"trusted loopback network", "127.0.0.0/8", `"ip":"198.51.100.7"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, t.TempDir(), env("TRUST_PROXY", tc.trust))
			c := in.client()
			r := c.do("POST", "/login", "application/json", `{"username":"alice","password":"wrong-horse"}`, "X-Forwarded-For", "6.6.6.6, 198.51.100.7")
			expect(t, "failed login", r, 401, "")
			in.stop()
			if !strings.Contains(in.events.String(), tc.want) {
				t.Fatalf("events: want %s in\n%s", tc.want, in.events)
			}
		})
	}
}

var metricsRE = regexp.MustCompile(`Metrics on (http://\S+)`)

func TestMetrics(t *testing.T) {
	check := func(t *testing.T, body string) {
		t.Helper()
		for _, want := range []string{
			`tether_session_lookups_total{result="hit"}`,
			`tether_session_lookups_total{result="miss"}`,
			`tether_security_events_total{event="login_success"}`,
			`tether_security_events_total{event="login_failure"}`,
			`tether_store_duration_seconds_bucket{op="load"`,
			`tether_http_request_duration_seconds_count{code="200",method="GET",route="/profile"}`,
			`tether_http_request_duration_seconds_count{code="404",method="GET",route="other"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics: missing %s", want)
			}
		}
	}
	traffic := func(in *instance) {
		c := in.client()
		expect(t, "bad login", c.login("alice", "nope-nope"), 401, "")
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		expect(t, "profile", c.get("/profile"), 200, "")
		stale := in.client()
		stale.setSID(c.sid())
		expect(t, "logout", c.do("POST", "/logout", "", ""), 200, "")
		expect(t, "stale cookie", stale.get("/profile"), 401, "")
		expect(t, "unknown path", c.get("/nope/123"), 404, "")
	}
	t.Run("on the main listener", func(t *testing.T) {
		in := start(t, t.TempDir(), env())
		traffic(in)
		r := in.client().get("/metrics")
		if r.status != 200 {
			t.Fatalf("/metrics: got %d", r.status)
		}
		check(t, r.body)
	})
	t.Run("on METRICS_ADDR", func(t *testing.T) {
		in := start(t, t.TempDir(), env("METRICS_ADDR", "127.0.0.1:0"))
		traffic(in)
		if r := in.client().get("/metrics"); r.status != 404 {
			t.Fatalf("/metrics on the main listener with METRICS_ADDR set: got %d, want 404", r.status)
		}
		m := metricsRE.FindStringSubmatch(in.stderr.String())
		if m == nil {
			t.Fatalf("no metrics address in stderr:\n%s", in.stderr)
		}
		resp, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		check(t, string(b))
	})
}

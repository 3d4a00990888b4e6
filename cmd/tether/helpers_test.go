package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/listenaddr"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/internal/testenv/redistest"
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

// start runs `tether serve --demo` with getenv in dir and waits for /healthz.
func start(t *testing.T, dir string, getenv func(string) string, extra ...string) *instance {
	t.Helper()
	return launch(t, getenv, append([]string{"serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir}, extra...))
}

// launch runs the command args (a `serve`) with getenv until the test ends,
// and returns once the server has printed the address it listens on.
func launch(t *testing.T, getenv func(string) string, args []string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{t: t, events: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		err := run(ctx, args, getenv, strings.NewReader(""), in.events, io.MultiWriter(in.stderr, pw))
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		in.done <- err
	}()
	found := listenaddr.Watch(pr)
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

func runCLI(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env("DATA_DIR", dir), strings.NewReader(stdin), &out, &errb)
	return out.String(), err
}

// cliIn runs an admin command against the data directory of an instance
// started with env() and returns its standard output.
func cliIn(t *testing.T, dir string, stdin string, args ...string) string {
	t.Helper()
	getenv := env("DATA_DIR", dir)
	var out bytes.Buffer
	if err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("tether %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// csrfToken fetches the session's CSRF token.
func (c *client) csrfToken() string {
	c.t.Helper()
	var v struct{ CSRFToken string }
	r := c.get("/csrf-token")
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CSRFToken == "" {
		c.t.Fatalf("csrf-token: got %d %s", r.status, r.body)
	}
	return v.CSRFToken
}

// post sends a JSON body with the session's CSRF token and extra headers.
func (c *client) post(path, body string, hdr ...string) response {
	c.t.Helper()
	return c.do("POST", path, "application/json", body, append([]string{"X-CSRF-Token", c.csrfToken()}, hdr...)...)
}

type sessionsBody struct {
	Sessions []struct {
		ID         string `json:"id"`
		Current    bool   `json:"current"`
		CreatedAt  string `json:"createdAt"`
		LastSeenAt string `json:"lastSeenAt"`
		IP         string `json:"ip"`
		UserAgent  string `json:"userAgent"`
	} `json:"sessions"`
}

// redisEnv is the environment of a server on the Redis at addr.
func redisEnv(url string, kv ...string) func(string) string {
	return env(append([]string{"REDIS_URL", url, "SESSION_SECRET", strings.Repeat("r", 64)}, kv...)...)
}

// deployments gives the environment of a server for each way to deploy it:
// everything in the embedded SQLite file; sessions in Redis; sessions in
// Redis and users in PostgreSQL (the several-instance set-up); sessions and
// users in PostgreSQL (SESSION_STORE=postgres, no Redis). Each starts
// its own redis-server and takes a PostgreSQL schema of its own.
var deployments = map[string]func(t *testing.T) func(string) string{
	"sqlite": func(t *testing.T) func(string) string { return env() },
	"redis": func(t *testing.T) func(string) string {
		return redisEnv("redis://" + redistest.Start(t, redistest.Config{}).Addr)
	},
	"redis+postgres": func(t *testing.T) func(string) string {
		return redisEnv("redis://"+redistest.Start(t, redistest.Config{}).Addr, "DATABASE_URL", pgtest.URL(t))
	},
	"postgres": func(t *testing.T) func(string) string { return postgresEnv(t) },
}

// unreachablePassword is the password in the URLs of unreachableAtStart.
const unreachablePassword = "hunter2-pass"

// unreachableAtStart runs serve with urlVar set to urlFormat (with %d for
// port, where nothing listens) and checks that it exits with an error that
// contains each of want and never the URL's password (which would land in
// logs).
func unreachableAtStart(t *testing.T, urlVar, urlFormat string, port int, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb syncBuffer
	err := run(ctx, []string{"serve", "--port", "0", "--data-dir", t.TempDir()}, env(urlVar, fmt.Sprintf(urlFormat, port)), strings.NewReader(""), &out, &errb)
	if err == nil {
		t.Fatalf("serve with an unreachable %s: got nil, want an error", urlVar)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("got %q, want it to contain %q", err, w)
		}
	}
	if pkgPrefix.MatchString(err.Error()) {
		t.Errorf("got %q, want one sentence without package prefixes", err)
	}
	if strings.Contains(err.Error()+out.String()+errb.String(), unreachablePassword) {
		t.Fatalf("the password of %s appears in the output: %q", urlVar, err.Error()+out.String()+errb.String())
	}
}

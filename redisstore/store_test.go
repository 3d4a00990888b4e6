package redisstore_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
	"github.com/tetherhq/tether/storetest"
)

var prefixes atomic.Int64

// conformance runs storetest against rdb, with a fresh key prefix per test.
func conformance(t *testing.T, rdb redis.UniversalClient) {
	storetest.Run(t, func(t *testing.T) tether.Store {
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("t%d:", prefixes.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceSingleNode(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	conformance(t, rdb)
}

func TestConformanceCluster(t *testing.T) {
	nodes := redistest.Cluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
	defer rdb.Close()
	conformance(t, rdb)
	// The sessions really are spread over the three masters.
	used := 0
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		if k, _ := c.DBSize(context.Background()).Result(); k > 0 {
			used++
		}
		c.Close()
	}
	if used < 2 {
		t.Fatalf("keys on %d of 3 masters, want them spread over at least 2", used)
	}
}

func TestConformanceTLSWithACLUser(t *testing.T) {
	files := redistest.GenerateTLS(t)
	srv := redistest.Start(t, redistest.Config{TLS: files, Lines: []string{
		"user default off",
		"user tether on >s3cret-pass ~* &* +@all",
	}})
	opts, err := redisstore.ParseURL("rediss://tether:s3cret-pass@" + srv.Addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	opts.TLSConfig.RootCAs = files.Pool
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	conformance(t, rdb)

	// The same server refuses a wrong password and plain TCP.
	bad, _ := redisstore.ParseURL("rediss://tether:wrong@" + srv.Addr)
	bad.TLSConfig.RootCAs = files.Pool
	if err := redis.NewUniversalClient(bad).Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping with a wrong password: got nil, want an auth error")
	}
	plain := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "tether", Password: "s3cret-pass"})
	if err := plain.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping over plain TCP to a TLS-only server: got nil, want an error")
	}
	_ = tls.VersionTLS12
}

// countHook counts the commands a client sends, pipelines included.
type countHook struct {
	mu    sync.Mutex
	names []string
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		for _, c := range cmds {
			h.names = append(h.names, c.Name())
		}
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}
func (h *countHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.names
	h.names = nil
	return out
}

// Guarantee 1 (DESIGN): one command for a read (a plain GET while the idle
// deadline is recent, the load script when it must move), at most two for
// a change, none without a valid cookie.
func TestCommandsPerRequest(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	hook := &countHook{}
	rdb.AddHook(hook)
	store, _ := redisstore.New(rdb, redisstore.Options{})
	if err := store.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // ns added to the wall clock
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
		Now: func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Login("user-1001", "")
		_ = s.Set("username", "alice")
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, tether.FromContext(r.Context()).UserID())
	})
	mux.HandleFunc("/views", func(w http.ResponseWriter, r *http.Request) {
		_, _ = tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("theme", "dark")
	})
	h := m.Handler(mux)
	send := func(path, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	login := send("/login", "")
	cookie := login.Result().Cookies()[0].Value
	hook.take()

	cases := []struct {
		name, path, cookie string
		later              time.Duration // move the clock first
		want               []string
	}{
		{"read of a busy session (deadline just written)", "/profile", cookie, 0, []string{"get"}},
		{"read that moves the idle deadline", "/profile", cookie, 2 * time.Second, []string{"evalsha"}},
		{"atomic increment as the first use: load and increment in one", "/views", cookie, 0, []string{"evalsha"}},
		{"page that never uses its session", "/other", cookie, 0, nil},
		{"change", "/set", cookie, 0, []string{"get", "evalsha"}},
		{"change that moves the idle deadline", "/set", cookie, 2 * time.Second, []string{"evalsha", "evalsha"}},
		{"no cookie", "/profile", "", 0, nil},
		{"forged cookie", "/profile", cookie[:len(cookie)-2] + "AA", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock.Add(int64(tc.later))
			send(tc.path, tc.cookie)
			if got := hook.take(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("commands: got %v, want %v", got, tc.want)
			}
		})
	}
	stats := srv.CommandStats(t)
	for _, banned := range []string{"keys", "scan"} {
		if stats[banned] > 0 {
			t.Fatalf("INFO commandstats: %s called %d times, want never", banned, stats[banned])
		}
	}
}

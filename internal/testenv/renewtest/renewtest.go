// Package renewtest checks session renewal with theft detection (issue 11,
// deliverable 3) end to end on a real store: a Manager over the store
// behind two HTTP servers (two instances sharing the store), a browser's
// cookie jar, 20 parallel requests across a renewal spread over both, and
// a replayed cookie. Within an instance a claim picks the request that
// renews; between the two, only the store's compare-and-set
// ([tether.Patch.Expect]) can, so each store's tests call Run to exercise
// it where it is implemented (memstore and sqlitestore through
// Patch.Apply, redisstore in its update script).
package renewtest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

const (
	interval = 10 * time.Minute
	grace    = time.Minute
	parallel = 20
)

// updates counts a store's Update calls.
type updates struct {
	tether.Store
	n atomic.Int64
}

func (u *updates) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	u.n.Add(1)
	return u.Store.Update(ctx, key, now, p)
}

// Run checks renewal on store, which must be empty and used by nothing else.
func Run(t *testing.T, store tether.Store) {
	t.Helper()
	var (
		mu     sync.Mutex
		now    = time.Now().Truncate(time.Millisecond)
		events []string
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	reuses := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range events {
			if e == tether.EventTokenReuse {
				n++
			}
		}
		return n
	}
	counted := &updates{Store: store}
	var ms [2]*tether.Manager
	for i := range ms {
		m, err := tether.New(tether.Config{
			Store: counted, Secrets: [][]byte{[]byte("renewtest-secret-0123456789abcdef")},
			Now: clock, RenewInterval: interval, RenewGrace: grace,
			OnEvent: func(e tether.Event) { mu.Lock(); defer mu.Unlock(); events = append(events, e.Type) },
		})
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	m := ms[0]
	// /burst holds each request, once it has loaded its session, until
	// all have: every one of them loads the state from before the renewal.
	var loaded sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Login("user-1", ""); err != nil {
			t.Errorf("Login: %v", err)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, tether.FromContext(r.Context()).UserID())
	})
	mux.HandleFunc("GET /burst", func(w http.ResponseWriter, r *http.Request) {
		id := tether.FromContext(r.Context()).UserID()
		loaded.Done()
		all := make(chan struct{})
		go func() { loaded.Wait(); close(all) }()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Errorf("/burst: not every request loaded within 10s")
		}
		_, _ = io.WriteString(w, id)
	})
	// Both listen on 127.0.0.1, so the jar sends them the same cookie.
	var srvs [2]*httptest.Server
	for i := range srvs {
		srvs[i] = httptest.NewServer(ms[i].Handler(mux))
		defer srvs[i].Close()
	}
	srv := srvs[0]
	jar, _ := cookiejar.New(nil)
	client := srv.Client()
	client.Jar = jar
	u, _ := url.Parse(srv.URL)
	cookie := func() string {
		for _, c := range jar.Cookies(u) {
			if c.Name == m.CookieName() {
				return c.Value
			}
		}
		return ""
	}
	get := func(c *http.Client, path string, instance ...int) (body string, setCookie bool) {
		t.Helper()
		base := srv.URL
		if len(instance) > 0 {
			base = srvs[instance[0]].URL
		}
		resp, err := c.Get(base + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return "", false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, ck := range resp.Cookies() {
			setCookie = setCookie || ck.Name == m.CookieName()
		}
		return string(b), setCookie
	}

	get(client, "/login")
	replaced := cookie()
	advance(interval + time.Second)
	counted.n.Store(0)
	loaded.Add(parallel)
	var (
		wg   sync.WaitGroup
		sent atomic.Int64
	)
	for i := range parallel {
		wg.Go(func() {
			body, set := get(client, "/burst", i%2)
			if body != "user-1" {
				t.Errorf("parallel request: got %q, want user-1 (served)", body)
			}
			if set {
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	if got := sent.Load(); got != 1 {
		t.Errorf("responses with a Set-Cookie among %d parallel requests: got %d, want 1", parallel, got)
	}
	// One renewal attempt an instance: the winner's Update, and the other
	// instance's, refused by the compare-and-set.
	if got := counted.n.Load(); got != 2 {
		t.Errorf("Updates during the burst: got %d, want 2 (one renewal attempt per instance)", got)
	}
	renewed := cookie()
	if renewed == replaced {
		t.Fatalf("the jar's cookie after the burst: unchanged, want a renewed one")
	}
	advance(grace)
	if body, _ := get(client, "/me"); body != "user-1" {
		t.Fatalf("the jar's last cookie after the grace: got %q, want user-1", body)
	}
	if n := reuses(); n != 0 {
		t.Fatalf("token_reuse events after the burst: got %d, want 0", n)
	}

	// The replaced cookie, after its grace: theft. The session ends for both.
	thief := &http.Client{Transport: client.Transport}
	req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
	req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: replaced})
	resp, err := thief.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "" || reuses() != 1 {
		t.Fatalf("replayed cookie after the grace: got %q and %d token_reuse events, want no session and 1", b, reuses())
	}
	if body, _ := get(client, "/me"); body != "" {
		t.Fatalf("the renewed cookie after token reuse: got %q, want no session (ended for both)", body)
	}
}

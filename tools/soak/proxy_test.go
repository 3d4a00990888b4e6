package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func proxyGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// deadURL is a loopback address where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestProxy(t *testing.T) {
	named := func(name string, hits *atomic.Int64) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.WriteString(w, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	t.Run("round robin over live backends", func(t *testing.T) {
		var ha, hb atomic.Int64
		p, err := newProxy([]string{named("a", &ha).URL, named("b", &hb).URL})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if st, _ := proxyGet(t, p, "/x"); st != 200 {
				t.Fatalf("got %d, want 200", st)
			}
		}
		if ha.Load() != 5 || hb.Load() != 5 {
			t.Fatalf("got %d and %d requests per backend, want 5 and 5", ha.Load(), hb.Load())
		}
	})
	t.Run("a dead backend is skipped", func(t *testing.T) {
		var ha atomic.Int64
		p, err := newProxy([]string{named("a", &ha).URL, deadURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		for range 6 {
			if st, body := proxyGet(t, p, "/x"); st != 200 || body != "a" {
				t.Fatalf("got %d %q, want 200 \"a\"", st, body)
			}
		}
		if got := p.Redials.Load(); got != 3 {
			t.Fatalf("got %d redials, want 3 (every second request)", got)
		}
	})
	t.Run("no backend: the proxy's own 502", func(t *testing.T) {
		p, err := newProxy([]string{deadURL(t), deadURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		if rec.Code != 502 || rec.Header().Get("X-Soak-Proxy") == "" || p.Failures.Load() != 1 {
			t.Fatalf("got %d, X-Soak-Proxy %q, %d failures; want 502, set, 1", rec.Code, rec.Header().Get("X-Soak-Proxy"), p.Failures.Load())
		}
	})
	t.Run("a request that reached a backend is never sent to another", func(t *testing.T) {
		// Both backends take the request and drop the connection without
		// answering, as a tether killed mid-request does: counted once, 502.
		var hits atomic.Int64
		drop := func() string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				c, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					c.Close()
				}
			}))
			t.Cleanup(s.Close)
			return s.URL
		}
		p, err := newProxy([]string{drop(), drop()})
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := proxyGet(t, p, "/views"); st != 502 {
			t.Fatalf("got %d, want 502", st)
		}
		if hits.Load() != 1 {
			t.Fatalf("the request reached backends %d times, want 1", hits.Load())
		}
	})
	t.Run("bad backend URL", func(t *testing.T) {
		if _, err := newProxy([]string{"not a url"}); err == nil || !strings.Contains(err.Error(), "not a URL") {
			t.Fatalf("got %v, want an error saying the backend is not a URL", err)
		}
	})
}

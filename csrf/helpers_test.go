package csrf_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/memstore"
)

// flakyStore is memstore whose Load fails, as a store's does when its
// server is down, while down is set.
type flakyStore struct {
	tether.Store
	down atomic.Bool
}

func (s *flakyStore) Load(ctx context.Context, key string, now, idle time.Time) (*tether.Record, error) {
	if s.down.Load() {
		return nil, fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connect: connection refused", tether.ErrStoreUnavailable)
	}
	return s.Store.Load(ctx, key, now, idle)
}

// app is a Manager and a Protector around one handler, with a session
// that holds a token, and the events they report.
type app struct {
	h      http.Handler
	store  *flakyStore
	cookie *http.Cookie
	token  string
	ran    atomic.Int32 // calls of the application handler

	mu       sync.Mutex
	events   []tether.Event
	mgrErrs  []error // errors that reached Config.ErrorHandler
	csrfErrs []error // errors that reached Options.ErrorHandler, if set
}

type appConfig struct {
	opts        csrf.Options // Manager is filled in
	handler     http.HandlerFunc
	csrfHandler bool // install a recording Options.ErrorHandler
}

func newApp(t testing.TB, c appConfig) *app {
	t.Helper()
	a := &app{store: &flakyStore{Store: memstore.New()}}
	m, err := tether.New(tether.Config{
		Store:   a.store,
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
		OnEvent: func(e tether.Event) { a.mu.Lock(); a.events = append(a.events, e); a.mu.Unlock() },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.mu.Lock()
			a.mgrErrs = append(a.mgrErrs, err)
			a.mu.Unlock()
			tether.DefaultErrorHandler(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := c.opts
	opts.Manager = m
	if c.csrfHandler {
		opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			a.mu.Lock()
			a.csrfErrs = append(a.csrfErrs, err)
			a.mu.Unlock()
			status, msg := csrf.StatusOf(err)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<!doctype html><title>Refused</title><p>%s</p>\n", msg)
		}
	}
	p, err := csrf.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	handler := c.handler
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("done")) }
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(tok))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.ran.Add(1)
		handler(w, r)
	})
	a.h = m.Handler(p.Handler(mux))
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, httptest.NewRequest("GET", "/csrf-token", nil))
	if rec.Code != 200 || len(rec.Result().Cookies()) != 1 || len(rec.Body.String()) != 64 {
		t.Fatalf("GET /csrf-token: got %d %q with %d cookies, want 200, 64 hex digits and a cookie", rec.Code, rec.Body.String(), len(rec.Result().Cookies()))
	}
	a.cookie, a.token = rec.Result().Cookies()[0], rec.Body.String()
	return a
}

// serve sends req with the session cookie and forgets earlier events.
func (a *app) serve(req *http.Request) *httptest.ResponseRecorder {
	req.AddCookie(a.cookie)
	a.mu.Lock()
	a.events, a.mgrErrs, a.csrfErrs = nil, nil, nil
	a.mu.Unlock()
	a.ran.Store(0)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec
}

// failures returns the reasons of the csrf_failure events since serve.
func (a *app) failures() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		if e.Type != tether.EventCSRFFailure {
			continue
		}
		r := "?"
		for _, at := range e.Attrs {
			if at.Key == "reason" {
				r = at.Value.String()
			}
		}
		out = append(out, r)
	}
	return out
}

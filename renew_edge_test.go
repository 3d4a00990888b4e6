package tether_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Renewal's edges: sessions from before it, rotations, Manager.Load,
// configuration, and re-signing (the main cases are in renew_test.go).

// Sessions from before renewal (a version-1 cookie, no renewal state) keep
// working, and are renewed on their first use; the replaced version-1
// cookie then gets the grace like any other, and is reuse after it. With
// renewal off, version-1 cookies stay as they are.
func TestRenewMigratesVersion1Sessions(t *testing.T) {
	f := newFixture(t, func(c *tether.Config) { c.RenewInterval = tether.RenewOff })
	_, v1 := f.do(t, "/login", "")
	if _, set := f.do(t, "/get", v1); set != "" {
		t.Fatalf("renewal off: got Set-Cookie %q, want none", set)
	}
	on, err := tether.New(tether.Config{Store: f.store, Secrets: [][]byte{secretA}, Now: f.clock.Now, OnEvent: f.events.add,
		RenewInterval: testInterval, RenewGrace: testGrace})
	if err != nil {
		t.Fatal(err)
	}
	f.h = on.Handler(testMux(t))
	rec, v2 := f.do(t, "/get", v1)
	if rec.Body.String() != "user-1|" || v2 == "" || v2 == v1 || len(v2) <= len(v1) {
		t.Fatalf("first use of a version-1 session: got %q with cookie %q, want served and renewed to a version-2 cookie", rec.Body.String(), v2)
	}
	if rec, set := f.do(t, "/get", v1); rec.Body.String() != "user-1|" || set != "" {
		t.Fatalf("version-1 cookie in its grace: got %q, Set-Cookie %q, want served, no cookie", rec.Body.String(), set)
	}
	f.clock.Add(testGrace)
	if rec, _ := f.do(t, "/get", v2); rec.Body.String() != "user-1|" {
		t.Fatalf("version-2 cookie: got %q, want served", rec.Body.String())
	}
	if rec, _ := f.do(t, "/get", v1); rec.Body.String() != "|" || !f.events.has(tether.EventTokenReuse) {
		t.Fatalf("version-1 cookie after its grace: got %q, events %v, want no session and token_reuse", rec.Body.String(), f.events.types())
	}
}

// A login, Regenerate or logout gives no grace: the old cookie stops at once
// (it names a deleted record), and is not mistaken for theft.
func TestRenewNoGraceOnRotation(t *testing.T) {
	for _, path := range []string{"/login", "/regen", "/logout"} {
		t.Run(path, func(t *testing.T) {
			f := renewFixture(t, nil)
			_, old := f.do(t, "/login", "")
			f.do(t, path, old)
			if rec, _ := f.do(t, "/get", old); rec.Body.String() != "|" {
				t.Fatalf("old cookie right after %s: got %q, want no session", path, rec.Body.String())
			}
			if f.events.has(tether.EventTokenReuse) {
				t.Fatalf("events %v: want no token_reuse (a deleted record is no theft)", f.events.types())
			}
		})
	}
}

// Manager.Load checks the renewal secret like a request, but never renews
// (only a response can hand the browser the new cookie), and a loop that
// holds a cookie the browser has renewed meanwhile gets ErrSessionEnded
// after the grace without ending the browser's session.
func TestRenewOutsideHTTP(t *testing.T) {
	f := renewFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.clock.Add(testInterval + time.Second)
	s, err := f.m.Load(context.Background(), c)
	if err != nil {
		t.Fatalf("Load when renewal is due: %v", err)
	}
	if v, err := s.Save(context.Background()); err != nil || v != c {
		t.Fatalf("Save after a due Load: got (%v, %v), want the same cookie (no renewal outside HTTP)", v != c, err)
	}
	_, renewed := f.do(t, "/get", c)
	if renewed == "" || renewed == c {
		t.Fatalf("request after the interval: got cookie %q, want a renewed one", renewed)
	}
	if _, err := f.m.Load(context.Background(), c); err != nil {
		t.Fatalf("Load of the replaced cookie in its grace: got %v, want nil", err)
	}
	f.clock.Add(testGrace)
	if _, err := f.m.Load(context.Background(), c); !errors.Is(err, tether.ErrSessionEnded) {
		t.Fatalf("Load of the replaced cookie after its grace: got %v, want ErrSessionEnded", err)
	}
	if f.events.has(tether.EventTokenReuse) {
		t.Fatalf("events %v: want no token_reuse from a Load", f.events.types())
	}
	if rec, _ := f.do(t, "/get", renewed); rec.Body.String() != "user-1|" {
		t.Fatalf("the browser's renewed cookie: got %q, want served", rec.Body.String())
	}
	unknown := tether.WithRenewalSecret(f.m, renewed, make([]byte, tether.RenewSecretBytes))
	if _, err := f.m.Load(context.Background(), unknown); !errors.Is(err, tether.ErrSessionEnded) || !f.events.has(tether.EventTokenReuse) {
		t.Fatalf("Load with an unknown secret: got %v, events %v, want ErrSessionEnded and token_reuse", err, f.events.types())
	}
}

// New refuses impossible renewal settings with a message naming the field.
func TestRenewConfig(t *testing.T) {
	cases := []struct {
		name            string
		interval, grace time.Duration
		err             string
	}{
		{"defaults", 0, 0, ""},
		{"off", tether.RenewOff, 0, ""},
		{"grace as long as the interval", time.Minute, time.Minute, "RenewGrace 1m0s must be shorter than RenewInterval 1m0s"},
		{"default grace above a short interval", 10 * time.Second, 0, "RenewGrace 30s must be shorter than RenewInterval 10s"},
		{"negative interval", -time.Minute, 0, "RenewInterval -1m0s must be > 0, or RenewOff"},
		{"negative grace", 0, -time.Second, "RenewGrace -1s must be > 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tether.New(tether.Config{Store: newFixture(t, nil).mem, Secrets: [][]byte{secretA}, RenewInterval: tc.interval, RenewGrace: tc.grace})
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("New: got %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("New: got %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

// A quick request that re-signs its cookie (signed by a previous secret of
// Config.Secrets) while another request renews the session must not send
// the replaced renewal secret back: the browser would keep it and be
// signed out after the grace. It asks the store before re-sending.
func TestRenewNoResignOfReplacedSecret(t *testing.T) {
	// Session cookies: no rolling expiry write that would ask the store anyway.
	f := renewFixture(t, func(c *tether.Config) { c.Secrets, c.CookieMode = [][]byte{secretB}, tether.CookieSession })
	_, c := f.do(t, "/login", "")
	m, err := tether.New(tether.Config{Store: f.store, Secrets: [][]byte{secretA, secretB}, Now: f.clock.Now, OnEvent: f.events.add,
		RenewInterval: testInterval, RenewGrace: testGrace, CookieMode: tether.CookieSession})
	if err != nil {
		t.Fatal(err)
	}
	loaded, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", testMux(t))
	mux.HandleFunc("GET /hold", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).UserID()
		close(loaded)
		<-release
	})
	h := m.Handler(mux)
	f.clock.Add(testInterval - 100*time.Millisecond) // not due yet
	held := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest("GET", "/hold", nil)
		req.AddCookie(&http.Cookie{Name: "sid", Value: c})
		h.ServeHTTP(held, req)
	}()
	<-loaded
	f.clock.Add(200 * time.Millisecond) // due now; the held request is still quick
	req := httptest.NewRequest("GET", "/get", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: c})
	renewing := httptest.NewRecorder()
	h.ServeHTTP(renewing, req)
	if setCookie(renewing, "sid") == "" {
		t.Fatalf("the request after the interval sent no cookie, want the renewed one")
	}
	close(release)
	<-done
	if got := setCookie(held, "sid"); got != "" {
		t.Fatalf("Set-Cookie of the held request, re-signing a replaced secret: got one, want none")
	}
}

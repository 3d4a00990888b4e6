package main

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/server"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/passwords"
)

// TestCeilingSendsTetherAPIHeaders guards the ceiling's meaning (issue 13:
// "re-measure the ceiling with that set"): on GET /profile and GET /views
// at steady state the ceiling sends exactly the headers, values and body
// that the reference server (internal/server) sends, apart from Date and
// Content-Length. Were tether's API header set to change, the ceiling
// would measure something else, and this test fails.
func TestCeilingSendsTetherAPIHeaders(t *testing.T) {
	teth := tetherHandler(t)
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t, redistest.Config{}).Addr})
	t.Cleanup(func() { rdb.Close() })
	ceil := newMux(rdb)

	for _, route := range []string{"/profile", "/views"} {
		t.Run(route, func(t *testing.T) {
			want := steady(t, teth, route)
			got := steady(t, ceil, route)
			if !maps.EqualFunc(got.Header(), want.Header(), slices.Equal) {
				t.Errorf("headers:\ngot  %v\nwant %v", got.Header(), want.Header())
			}
			if route == "/profile" && got.Body.String() != want.Body.String() {
				t.Errorf("body: got %q, want %q", got.Body, want.Body)
			}
		})
	}
}

// steady logs in on h as alice, sends route twice with the session cookie
// and returns the second answer without Date and Content-Length.
func steady(t *testing.T, h http.Handler, route string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"alice","password":"correct-horse"}`))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var sid string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sid" {
			sid = c.Value
		}
	}
	if rec.Code != 200 || sid == "" {
		t.Fatalf("login: got %d (sid cookie %v), want 200 with a sid cookie", rec.Code, sid != "")
	}
	for range 2 {
		r = httptest.NewRequest("GET", route, nil)
		r.AddCookie(&http.Cookie{Name: "sid", Value: sid})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Fatalf("GET %s: got %d %s, want 200", route, rec.Code, rec.Body)
		}
	}
	delete(rec.Header(), "Date")
	delete(rec.Header(), "Content-Length")
	return rec
}

// tetherHandler is the reference server in development mode on a memstore,
// with alice / correct-horse (cheap hashing parameters: a test).
func tetherHandler(t *testing.T) http.Handler {
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
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Manager: m, Users: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/passwords"
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

// testServer is New(o) on a Manager made from cfg. Left zero: cfg.Store is a
// memstore, cfg.Secrets one test secret, o.Users aliceDir.
func testServer(t testing.TB, cfg tether.Config, o Options) *Server {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = memstore.New()
	}
	if cfg.Secrets == nil {
		cfg.Secrets = [][]byte{bytes.Repeat([]byte("s"), 32)}
	}
	if o.Users == nil {
		o.Users = aliceDir(t)
	}
	m, err := tether.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.Manager = m
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

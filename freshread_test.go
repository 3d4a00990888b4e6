package tether_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// freshLog records whether the context of each Load asked for a fresh read.
type freshLog struct {
	tether.Store
	loads, fresh atomic.Int64
}

func (f *freshLog) Load(ctx context.Context, k string, now, idle time.Time) (*tether.Record, error) {
	f.loads.Add(1)
	if tether.FreshRead(ctx) {
		f.fresh.Add(1)
	}
	return f.Store.Load(ctx, k, now, idle)
}

// The Manager asks the store for a fresh read on every Load of an unsafe
// method and of a route Config.FreshRead names, and on no other (issue 13,
// point 2: a revocation made elsewhere is never hidden from them by a
// store's local cache). redisstore's TestManagerFreshReads proves what the
// cached store does with it.
func TestManagerAsksFreshRead(t *testing.T) {
	store := &freshLog{Store: memstore.New()}
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretA},
		FreshRead: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/sensitive") }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if r.URL.Path == "/login" {
			if err := s.Login("user-1", ""); err != nil {
				t.Errorf("Login: %v", err)
			}
			return
		}
		_, _ = w.Write([]byte(s.UserID()))
	}))
	login := httptest.NewRecorder()
	h.ServeHTTP(login, httptest.NewRequest("GET", "/login", nil))
	cookies := login.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatalf("login: no cookie (status %d)", login.Code)
	}
	cases := []struct {
		method, path string
		wantFresh    bool
	}{
		{"GET", "/page", false},
		{"HEAD", "/page", false},
		{"POST", "/page", true},
		{"PUT", "/page", true},
		{"PATCH", "/page", true},
		{"DELETE", "/page", true},
		{"OPTIONS", "/page", true},
		{"GET", "/sensitive/x", true},
		{"HEAD", "/sensitive", true},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			loads, fresh := store.loads.Load(), store.fresh.Load()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.AddCookie(cookies[0])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tc.method != "HEAD" && rec.Body.String() != "user-1" {
				t.Fatalf("body: got %q, want user-1 (status %d)", rec.Body, rec.Code)
			}
			if got := store.loads.Load() - loads; got != 1 {
				t.Fatalf("Loads: got %d, want 1", got)
			}
			if got := store.fresh.Load()-fresh == 1; got != tc.wantFresh {
				t.Fatalf("fresh read asked: got %v, want %v", got, tc.wantFresh)
			}
		})
	}
}

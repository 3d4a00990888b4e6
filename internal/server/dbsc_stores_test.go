package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/pgstore"
	"github.com/tetherhq/tether/redisstore"
	"github.com/tetherhq/tether/sqlitestore"
)

// The binding in every store (issue 16: "It stores the public key and
// state with the session, in every store"): registration, enforcement,
// expiry and refresh, two refreshes with one proof (the challenge's atomic
// take is the store's increment), and logout, on memstore, SQLite, Redis
// and PostgreSQL, and on memstore behind value encryption.
func TestDBSCEveryStore(t *testing.T) {
	stores := []struct {
		name string
		cfg  func(t *testing.T) tether.Config
	}{
		{"memstore", func(t *testing.T) tether.Config { return tether.Config{Store: memstore.New()} }},
		{"memstore encrypted", func(t *testing.T) tether.Config {
			return tether.Config{Store: memstore.New(), EncryptionKeys: [][]byte{bytes.Repeat([]byte{7}, tether.EncryptionKeyBytes)}}
		}},
		{"sqlite", func(t *testing.T) tether.Config {
			s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return tether.Config{Store: s}
		}},
		{"redis", func(t *testing.T) tether.Config {
			return tether.Config{Store: dbscRedisStore(t, redistest.Start(t, redistest.Config{}), redis.Options{})}
		}},
		{"postgres", func(t *testing.T) tether.Config {
			s, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return tether.Config{Store: s}
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ts, clock, log := dbscServerCfg(t, st.cfg(t), Options{})
			b := newDBSCBrowser(t, ts, dbsc.AlgES256)
			b.RegisterOK(b.Login())
			clock.Add(dbsc.RegistrationGrace)
			if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("bound, with the bound cookie: got %d %s, want 200", resp.StatusCode, body)
			}
			if resp, _ := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("session cookie alone: got %d, want 401", resp.StatusCode)
			}
			clock.Add(dbsc.DefaultCookieTTL + time.Second)
			if resp, _ := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("after expiry: got %d, want 401", resp.StatusCode)
			}
			b.Refresh()
			for i := 0; i < 3; i++ {
				proof := b.Proof(false, b.RefreshAsk())
				codes := concurrently(t, b, 2, func(int) (*http.Request, error) {
					r, err := http.NewRequest("POST", ts.URL+"/dbsc/refresh", nil)
					if err == nil {
						r.Header.Set(dbsc.HeaderSessionID, b.SID)
						r.Header.Set(dbsc.HeaderResponse, proof)
					}
					return r, err
				})
				if codes[http.StatusOK] != 1 || codes[http.StatusForbidden] != 1 {
					t.Fatalf("two refreshes with one proof, round %d: got %v, want one 200 and one 403", i, codes)
				}
			}
			if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("after refreshes: got %d %s, want 200", resp.StatusCode, body)
			}
			if got := log.count(tether.EventDBSCRefreshed, ""); got != 4 {
				t.Errorf("dbsc_refreshed: got %d, want 4", got)
			}
			if resp, _ := b.Do("POST", "/logout", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("logout: got %d", resp.StatusCode)
			}
			resp, _ := b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.SID})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("refresh after logout: got %d, want 401", resp.StatusCode)
			}
		})
	}
}

// A store outage never ends the browser's DBSC session (dbsc/doc.go,
// "Failure rules": a 4xx would): with a real Redis paused (connections
// open, nothing answers), a refresh and a bound request get 503; once it
// answers again, the same browser refreshes and goes on.
func TestDBSCRedisOutageAnswers503(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	// Short client timeouts and no retries: each call fails fast.
	s := dbscRedisStore(t, srv, redis.Options{ReadTimeout: 250 * time.Millisecond, WriteTimeout: 250 * time.Millisecond, MaxRetries: -1})
	ts, clock, log := dbscServerCfg(t, tether.Config{Store: s}, Options{})
	b := newDBSCBrowser(t, ts, dbsc.AlgES256)
	b.RegisterOK(b.Login())
	clock.Add(dbsc.DefaultCookieTTL + time.Second)

	srv.Pause()
	t.Cleanup(srv.Resume)
	for _, tc := range []struct {
		what string
		send func() (*http.Response, string)
	}{
		{"refresh without proof", func() (*http.Response, string) {
			return b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.SID})
		}},
		{"refresh with a proof", func() (*http.Response, string) { return b.RefreshWith(b.Proof(false, "c")) }},
		{"a bound request", func() (*http.Response, string) { return b.Do("GET", "/profile", "", nil) }},
	} {
		if resp, body := tc.send(); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: got %d %s, want 503", tc.what, resp.StatusCode, body)
		}
	}
	srv.Resume()
	b.Refresh()
	if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the outage: got %d %s, want 200", resp.StatusCode, body)
	}
	if got := log.count(tether.EventDBSCRefreshFailed, ""); got != 0 {
		t.Errorf("dbsc_refresh_failed during an outage: got %d, want 0 (it is no refusal)", got)
	}
}

// Two instances sharing a store and the secrets (issue 16: the state lives
// with the session): a browser registers through one, gets its challenge
// from the other, proves possession to the first, and its bound cookie
// from either works on both.
func TestDBSCAcrossInstances(t *testing.T) {
	s := dbscRedisStore(t, redistest.Start(t, redistest.Config{}), redis.Options{})
	tsA, clockA, _ := dbscServerCfg(t, tether.Config{Store: s}, Options{})
	tsB, clockB, _ := dbscServerCfg(t, tether.Config{Store: s}, Options{})
	a := newDBSCBrowser(t, tsA, dbsc.AlgES256)
	a.RegisterOK(a.Login())
	b := *a // the same browser (jar, key), talking to instance B
	b.Base, _ = url.Parse(tsB.URL)

	ch := b.RefreshAsk() // the challenge comes from B, the proof goes to A
	if resp, body := a.RefreshWith(a.Proof(false, ch)); resp.StatusCode != http.StatusOK {
		t.Fatalf("proof to A over B's challenge: got %d %s, want 200", resp.StatusCode, body)
	}
	if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("A's bound cookie on B: got %d %s, want 200", resp.StatusCode, body)
	}
	clockA.Add(dbsc.DefaultCookieTTL + time.Second)
	clockB.Add(dbsc.DefaultCookieTTL + time.Second)
	b.Refresh()
	if resp, body := a.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("B's bound cookie on A: got %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := a.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session cookie alone on A: got %d, want 401", resp.StatusCode)
	}
}

// dbscRedisStore is a go-redis session store on srv (each test starts its
// own Redis) with the client options o (Addr is set here).
func dbscRedisStore(t *testing.T, srv *redistest.Server, o redis.Options) *redisstore.Store {
	t.Helper()
	o.Addr = srv.Addr
	rdb := redis.NewClient(&o)
	t.Cleanup(func() { rdb.Close() })
	s, err := redisstore.New(rdb, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

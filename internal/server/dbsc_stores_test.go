package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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
			srv := redistest.Start(t, redistest.Config{})
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
			t.Cleanup(func() { rdb.Close() })
			s, err := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("dbsc%d:", time.Now().UnixNano())})
			if err != nil {
				t.Fatal(err)
			}
			return tether.Config{Store: s}
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

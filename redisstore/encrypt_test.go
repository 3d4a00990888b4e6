package redisstore_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/redisstore"
	"github.com/tetherhq/tether/storetest"
)

func encKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = make([]byte, tether.EncryptionKeyBytes)
		_, _ = rand.Read(keys[i])
	}
	return keys
}

// The store wrapped by tether.EncryptStore keeps the whole contract.
func TestConformanceEncrypted(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys := encKeys(2)
	storetest.Run(t, func(t *testing.T) tether.Store {
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: fmt.Sprintf("t%d:", prefixes.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		e, err := tether.EncryptStore(s, keys)
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}

// With encryption on, a dump of the keys a session writes (names, GET and
// DUMP of the session, DUMP of the user index) holds no user ID, IP or user
// agent (issue 11 deliverable 4); with it off the same search finds all
// three, so the test can fail.
func TestEncryptedDumpShowsNoSecrets(t *testing.T) {
	const userID, ip, ua = "user-9a41c7", "192.0.2.144", "Mozilla/5.0 (SecretAgent/9.3)"
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	for _, encrypted := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "in the clear"}[encrypted], func(t *testing.T) {
			ctx := t.Context()
			prefix := fmt.Sprintf("t%d:", prefixes.Add(1))
			raw, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			var s tether.Store = raw
			if encrypted {
				if s, err = tether.EncryptStore(raw, encKeys(1)); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now()
			str := func(v string) json.RawMessage { b, _ := json.Marshal(v); return b }
			key := strings.Repeat("7f", 32)
			err = s.Create(ctx, key, &tether.Record{
				Values: map[string]json.RawMessage{"ip": str(ip), "n": json.RawMessage("1")}, UserID: userID,
				CreatedAt: now, AuthenticatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(8 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Update(ctx, key, now, &tether.Patch{Set: map[string]json.RawMessage{"userAgent": str(ua)}, Incr: map[string]int64{"n": 1}})
			if err != nil {
				t.Fatal(err)
			}
			names, err := rdb.Keys(ctx, prefix+"*").Result()
			if err != nil || len(names) < 2 {
				t.Fatalf("KEYS: got %q, %v; want the session and the user index", names, err)
			}
			var dump bytes.Buffer
			for _, name := range names {
				dump.WriteString(name)
				b, err := rdb.Dump(ctx, name).Result()
				if err != nil {
					t.Fatal(err)
				}
				dump.WriteString(b)
				if typ, _ := rdb.Type(ctx, name).Result(); typ == "string" {
					dump.WriteString(rdb.Get(ctx, name).Val())
				}
			}
			var found []string
			for _, secret := range []string{userID, ip, ua} {
				if bytes.Contains(dump.Bytes(), []byte(secret)) {
					found = append(found, secret)
				}
			}
			if want := map[bool]int{true: 0, false: 3}[encrypted]; len(found) != want {
				t.Fatalf("the dump of %q shows %q; want %d of the user ID, IP and user agent", names, found, want)
			}
		})
	}
}

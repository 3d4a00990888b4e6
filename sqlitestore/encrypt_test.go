package sqlitestore_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/sqlitestore"
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
	keys := encKeys(2)
	storetest.Run(t, func(t *testing.T) tether.Store {
		s, err := tether.EncryptStore(open(t, filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{}), keys)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// With encryption on, the bytes of the SQLite file (and its WAL) hold no
// user ID, IP or user agent (issue 11 deliverable 4); with it off the same
// search finds all three, so the test can fail.
func TestEncryptedFileShowsNoSecrets(t *testing.T) {
	const userID, ip, ua = "user-5b9d2e", "198.51.100.23", "Mozilla/5.0 (SecretAgent/7.1)"
	for _, encrypted := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "in the clear"}[encrypted], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tether.db")
			raw, err := sqlitestore.Open(path, sqlitestore.Options{})
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
			key := strings.Repeat("5e", 32)
			err = s.Create(t.Context(), key, &tether.Record{
				Values: map[string]json.RawMessage{"ip": str(ip)}, UserID: userID,
				CreatedAt: now, AuthenticatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(8 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(t.Context(), key, now, &tether.Patch{Set: map[string]json.RawMessage{"userAgent": str(ua)}}); err != nil {
				t.Fatal(err)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}
			var file []byte
			for _, suffix := range []string{"", "-wal", "-journal"} {
				b, err := os.ReadFile(path + suffix)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				file = append(file, b...)
			}
			var found []string
			for _, secret := range []string{userID, ip, ua} {
				if bytes.Contains(file, []byte(secret)) {
					found = append(found, secret)
				}
			}
			if want := map[bool]int{true: 0, false: 3}[encrypted]; len(found) != want {
				t.Fatalf("the file's %d bytes show %q; want %d of the user ID, IP and user agent", len(file), found, want)
			}
		})
	}
}

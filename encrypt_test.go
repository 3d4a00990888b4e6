package tether_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// newEncKey returns a fresh 32-byte encryption key.
func newEncKey(t testing.TB) []byte {
	k := make([]byte, tether.EncryptionKeyBytes)
	_, _ = rand.Read(k)
	return k
}

// encrypt wraps s with keys, failing the test on an error.
func encrypt(t testing.TB, s tether.Store, keys ...[]byte) tether.Store {
	t.Helper()
	e, err := tether.EncryptStore(s, keys)
	if err != nil {
		t.Fatalf("EncryptStore: got %v, want nil", err)
	}
	return e
}

// Secrets an encrypting store must never write in the clear (issue 11
// deliverable 4: "a dump then shows no user id, IP or user agent").
const (
	secretUserID = "user-7e3c1f"
	secretIP     = "203.0.113.77"
	secretUA     = "Mozilla/5.0 (X11; SecretBrowser/42.0)"
)

// sensitiveRecord is an authenticated session holding an IP and a user agent.
func sensitiveRecord() *tether.Record {
	now := time.Now().Truncate(time.Millisecond)
	ip, _ := json.Marshal(secretIP)
	ua, _ := json.Marshal(secretUA)
	return &tether.Record{
		Values:           map[string]json.RawMessage{"ip": ip, "ua": ua, "n": json.RawMessage("1")},
		UserID:           secretUserID,
		CreatedAt:        now,
		AuthenticatedAt:  now,
		IdleDeadline:     now.Add(30 * time.Minute),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	}
}

// leaks returns which of the user ID, IP and user agent appear in b.
func leaks(b []byte) []string {
	var found []string
	for _, s := range []string{secretUserID, secretIP, secretUA} {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// What the inner store holds: with encryption, neither the user ID nor the
// IP nor the user agent; without it, all three (so the check can fail).
func TestEncryptStoreHidesValues(t *testing.T) {
	cases := []struct {
		name      string
		encrypted bool
		wantLeaks int
	}{
		{"encrypted", true, 0},
		{"in the clear", false, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memstore.New()
			var s tether.Store = mem
			if tc.encrypted {
				s = encrypt(t, mem, newEncKey(t))
			}
			key := strings.Repeat("ab", 32)
			if err := s.Create(t.Context(), key, sensitiveRecord()); err != nil {
				t.Fatal(err)
			}
			raw, err := mem.Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			dump, _ := json.Marshal(raw)
			if got := leaks(dump); len(got) != tc.wantLeaks {
				t.Fatalf("the stored record shows %q; want %d of the user ID, IP and user agent\n%s", got, tc.wantLeaks, dump)
			}
			// Through the wrapper, everything reads back.
			rec, err := s.Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if rec.UserID != secretUserID || !bytes.Contains(rec.Values["ip"], []byte(secretIP)) {
				t.Fatalf("read back UserID %q, ip %s; want %q, %q", rec.UserID, rec.Values["ip"], secretUserID, secretIP)
			}
		})
	}
}

// A record, or a value, moved to another store key or another name does
// not decrypt (issue 11 deliverable 4: "a record moved to another key does
// not decrypt"), nor does one changed or written in the clear by someone
// with write access. Each is refused as ErrUndecryptable, which also
// matches ErrNotFound, so the Manager treats it as no session.
func TestEncryptStoreRefusesMovedOrChanged(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	k1, k2 := strings.Repeat("11", 32), strings.Repeat("22", 32)
	cases := []struct {
		name   string
		tamper func(t *testing.T, mem *memstore.Store, stored *tether.Record) string // returns the key to load
	}{
		{"untouched (control)", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string { return k1 }},
		{"record copied to another key", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			mustCreate(t, mem, k2, stored)
			return k2
		}},
		{"value moved to another name", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			mustUpdate(t, mem, k1, &tether.Patch{Set: map[string]json.RawMessage{"ip": stored.Values["ua"]}})
			return k1
		}},
		{"value moved from another record", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			other := stored.Clone()
			mustCreate(t, mem, k2, other)
			mustUpdate(t, mem, k2, &tether.Patch{Set: map[string]json.RawMessage{"ip": stored.Values["ip"]}})
			return k2
		}},
		{"one ciphertext byte flipped", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			v := append(json.RawMessage(nil), stored.Values["n"]...)
			v[len(v)-2] ^= 'A' ^ 'B' // a base64url character, still one
			if v[len(v)-2] == stored.Values["n"][len(v)-2] {
				t.Fatal("no change")
			}
			mustUpdate(t, mem, k1, &tether.Patch{Set: map[string]json.RawMessage{"n": v}})
			return k1
		}},
		{"value written in the clear", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			mustUpdate(t, mem, k1, &tether.Patch{Set: map[string]json.RawMessage{"role": json.RawMessage(`"admin"`)}})
			return k1
		}},
		{"user changed in the index", func(t *testing.T, mem *memstore.Store, stored *tether.Record) string {
			other := stored.Clone()
			other.UserID = "someone-else"
			mustCreate(t, mem, k2, other)
			return k2
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memstore.New()
			s := encrypt(t, mem, newEncKey(t))
			if err := s.Create(ctx, k1, sensitiveRecord()); err != nil {
				t.Fatal(err)
			}
			stored, err := mem.Load(ctx, k1, now, now.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			key := tc.tamper(t, mem, stored)
			rec, err := s.Load(ctx, key, now, now.Add(time.Minute))
			if tc.name == "untouched (control)" {
				if err != nil || rec.UserID != secretUserID {
					t.Fatalf("Load: got %v, %v; want the record", rec, err)
				}
				return
			}
			if !errors.Is(err, tether.ErrUndecryptable) || !errors.Is(err, tether.ErrNotFound) {
				t.Fatalf("Load: got %v, %v; want an error matching ErrUndecryptable and ErrNotFound", rec, err)
			}
			for _, leak := range leaks([]byte(err.Error())) {
				t.Errorf("the error shows %q: %v", leak, err)
			}
		})
	}
}

func mustCreate(t *testing.T, s tether.Store, key string, rec *tether.Record) {
	t.Helper()
	if err := s.Create(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
}

func mustUpdate(t *testing.T, s tether.Store, key string, p *tether.Patch) {
	t.Helper()
	if _, err := s.Update(t.Context(), key, time.Now(), p); err != nil {
		t.Fatal(err)
	}
}

// Rotation: a record sealed with the old key opens, and is found by user,
// while the old key is configured as a previous one; new records are
// sealed with the new key; once the old key is removed its records no
// longer open.
func TestEncryptStoreRotation(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	oldKey, newKey := newEncKey(t), newEncKey(t)
	mem := memstore.New()
	before, rotating, after := encrypt(t, mem, oldKey), encrypt(t, mem, newKey, oldKey), encrypt(t, mem, newKey)
	kOld, kNew := strings.Repeat("0a", 32), strings.Repeat("0b", 32)
	if err := before.Create(ctx, kOld, sensitiveRecord()); err != nil {
		t.Fatal(err)
	}
	if err := rotating.Create(ctx, kNew, sensitiveRecord()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		s       tether.Store
		key     string
		opens   bool
		listed  int // sessions ListUser finds
		deleted int // sessions DeleteUser ends (run last)
	}{
		{"old key alone reads an old record", before, kOld, true, 1, 0},
		{"old key alone cannot read a new record", before, kNew, false, 1, 0},
		{"new key with the previous one reads an old record", rotating, kOld, true, 2, 0},
		{"new key with the previous one reads a new record", rotating, kNew, true, 2, 0},
		{"new key alone reads a new record", after, kNew, true, 1, 0},
		{"new key alone: the old key was removed", after, kOld, false, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := tc.s.Load(ctx, tc.key, now, now.Add(time.Minute))
			switch {
			case tc.opens && (err != nil || rec.UserID != secretUserID):
				t.Fatalf("Load: got %v, %v; want the record of %q", rec, err, secretUserID)
			case !tc.opens && !errors.Is(err, tether.ErrUndecryptable):
				t.Fatalf("Load: got %v, %v; want ErrUndecryptable", rec, err)
			}
			got, err := tc.s.(tether.UserIndex).ListUser(ctx, secretUserID, now)
			if err != nil || len(got) != tc.listed {
				t.Fatalf("ListUser: got %d sessions, %v; want %d", len(got), err, tc.listed)
			}
		})
	}
	// DeleteUser under the rotating configuration ends both generations.
	n, err := rotating.(tether.UserIndex).DeleteUser(ctx, secretUserID)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser: got %d, %v; want 2, nil", n, err)
	}
	if mem.Len() != 0 {
		t.Fatalf("after DeleteUser the store holds %d records, want 0", mem.Len())
	}
}

// Keys are checked when the Manager is built, and errors never show a key.
func TestNewRejectsBadEncryptionKeys(t *testing.T) {
	k := newEncKey(t)
	cases := []struct {
		name string
		keys [][]byte
		want string // substring of the error; "" means New must succeed
	}{
		{"one key", [][]byte{k}, ""},
		{"with a previous key", [][]byte{k, newEncKey(t)}, ""},
		{"short key", [][]byte{k[:31]}, "Config.EncryptionKeys[0] is 31 bytes; want exactly 32"},
		{"long previous key", [][]byte{k, append(newEncKey(t), 0)}, "Config.EncryptionKeys[1] is 33 bytes"},
		{"empty key", [][]byte{{}}, "Config.EncryptionKeys[0] is 0 bytes"},
		{"repeated key", [][]byte{k, bytes.Clone(k)}, "Config.EncryptionKeys[1] repeats an earlier key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA}, EncryptionKeys: tc.keys})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: got %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: got %v, want an error containing %q", err, tc.want)
			case err != nil && (strings.Contains(err.Error(), hex.EncodeToString(k[:8])) || strings.Contains(err.Error(), string(k[:8]))):
				t.Fatalf("New: the error shows the key: %v", err)
			}
		})
	}
}

// The wrapper passes on the optional interfaces of the store it wraps, and
// nothing more, and unwraps to it (so New still refuses memstore in
// production when it is encrypted).
func TestEncryptStoreInterfaces(t *testing.T) {
	k := newEncKey(t)
	plain := struct{ tether.Store }{memstore.New()} // hides UserIndex
	cases := []struct {
		name      string
		inner     tether.Store
		wantIndex bool
	}{
		{"memstore", memstore.New(), true},
		{"without an index", plain, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := encrypt(t, tc.inner, k)
			if _, ok := s.(tether.UserIndex); ok != tc.wantIndex {
				t.Errorf("implements UserIndex: got %v, want %v", ok, tc.wantIndex)
			}
			if _, ok := s.(tether.Pinger); ok {
				t.Errorf("implements Pinger: got true, want false (memstore has no Ping)")
			}
			u, ok := s.(interface{ Unwrap() tether.Store })
			if !ok || u.Unwrap() != tc.inner {
				t.Errorf("Unwrap: got %v, want the inner store", u)
			}
		})
	}
	_, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA, secretB}, Production: true, EncryptionKeys: [][]byte{k}})
	if err == nil || !strings.Contains(err.Error(), "development only") {
		t.Fatalf("New in production on an encrypted memstore: got %v, want the development-only refusal", err)
	}
	if _, err := tether.EncryptStore(nil, [][]byte{k}); err == nil {
		t.Fatal("EncryptStore(nil): got nil error, want one")
	}
}

// The reserved value that holds the encrypted user ID cannot be written
// through the wrapper.
func TestEncryptStoreReservedValue(t *testing.T) {
	s := encrypt(t, memstore.New(), newEncKey(t))
	key := strings.Repeat("cd", 32)
	mustCreate(t, s, key, sensitiveRecord())
	v := json.RawMessage(`"x"`)
	patches := map[string]*tether.Patch{
		"Set":    {Set: map[string]json.RawMessage{"_tether.uid": v}},
		"Delete": {Delete: []string{"_tether.uid"}},
		"Incr":   {Incr: map[string]int64{"_tether.uid": 1}},
	}
	for name, p := range patches {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Update(t.Context(), key, time.Now(), p); err == nil {
				t.Fatal("Update: got nil error, want a refusal")
			}
			rec, err := s.Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
			if err != nil || rec.UserID != secretUserID {
				t.Fatalf("after the refused patch: got %v, %v; want the record unchanged", rec, err)
			}
		})
	}
	bad := sensitiveRecord()
	bad.Values["_tether.uid"] = v
	if err := s.Create(t.Context(), strings.Repeat("ce", 32), bad); err == nil {
		t.Fatal("Create with the reserved value: got nil error, want a refusal")
	}
}

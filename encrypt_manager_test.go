package tether_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// keyLog remembers the keys of the records created through it.
type keyLog struct {
	*memstore.Store
	mu   sync.Mutex
	keys []string
}

func (k *keyLog) Create(ctx context.Context, key string, rec *tether.Record) error {
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.mu.Unlock()
	return k.Store.Create(ctx, key, rec)
}

// dump returns the records stored under every key created so far, as JSON.
func (k *keyLog) dump(t *testing.T) []byte {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []byte
	for _, key := range k.keys {
		rec, err := k.Store.Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
		if err == nil {
			b, _ := json.Marshal(rec)
			out = append(out, b...)
		}
	}
	return out
}

// encManager is a Manager with the given encryption keys (none: off) on
// store, which records its keys.
func encManager(t *testing.T, store *keyLog, events *eventLog, keys ...[]byte) http.Handler {
	t.Helper()
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secretA}, EncryptionKeys: keys, OnEvent: events.add})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m.Handler(testMux(t))
}

func get(t *testing.T, h http.Handler, path, cookie string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, setCookie(rec, "sid")
}

// Through the Manager: with Config.EncryptionKeys the store holds neither
// the user ID nor a value; the application reads both back (issue 11
// deliverable 4). Without keys the same check finds them.
func TestManagerEncryptsSessions(t *testing.T) {
	for _, encrypted := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "in the clear"}[encrypted], func(t *testing.T) {
			store := &keyLog{Store: memstore.New()}
			var keys [][]byte
			if encrypted {
				keys = [][]byte{newEncKey(t)}
			}
			h := encManager(t, store, &eventLog{}, keys...)
			_, c := get(t, h, "/login", "")
			get(t, h, "/set?k=ip&v="+secretIP, c)
			if rec, _ := get(t, h, "/get?k=ip", c); rec.Body.String() != "user-1|"+secretIP {
				t.Fatalf("read back: got %q, want %q", rec.Body, "user-1|"+secretIP)
			}
			dump := store.dump(t)
			found := bytes.Contains(dump, []byte(`"user-1"`)) || bytes.Contains(dump, []byte(secretIP))
			if found == encrypted {
				t.Fatalf("the store shows the user ID or IP: got %v, want %v\n%s", found, !encrypted, dump)
			}
		})
	}
}

// A session whose record no configured key opens (its key was removed
// before the absolute timeout) is no session: the request goes on
// anonymous and gets a new cookie, the event is session_rejected, and
// nothing of the record reaches the handler. Not a 503: the condition is
// permanent, and a 503 would hold the browser until the absolute timeout.
// With the old key as a previous key, the session goes on. With encryption
// turned off, a Manager never sees the user ID: it sees the user's
// pseudonym and opaque values, or no session where it cannot read its own
// bookkeeping (renewal state); the README says to clear the store when
// turning encryption off.
func TestManagerUndecryptableSession(t *testing.T) {
	oldKey, newKey := newEncKey(t), newEncKey(t)
	store := &keyLog{Store: memstore.New()}
	_, c := get(t, encManager(t, store, &eventLog{}, oldKey), "/login", "")
	cases := []struct {
		name      string
		keys      [][]byte
		wantBody  string // "": anything that does not name the user
		wantEvent string
	}{
		{"previous key still configured", [][]byte{newKey, oldKey}, "user-1|", ""},
		{"old key removed", [][]byte{newKey}, "|", tether.EventSessionRejected},
		{"encryption turned off", nil, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := &eventLog{}
			rec, _ := get(t, encManager(t, store, events, tc.keys...), "/get", c)
			body := rec.Body.String()
			if tc.wantBody == "" && !strings.Contains(body, "user-1") {
				body = ""
			}
			if rec.Code != http.StatusOK || body != tc.wantBody {
				t.Fatalf("got %d %q, want 200 %q (\"\": not naming user-1)", rec.Code, rec.Body, tc.wantBody)
			}
			if tc.wantEvent != "" && !events.has(tc.wantEvent) {
				t.Fatalf("events: got %v, want %s", events.types(), tc.wantEvent)
			}
		})
	}
}

// Increments stay exact with encryption, where the store cannot add to a
// value it holds encrypted: N concurrent requests of M increments each on
// one session end at exactly N×M (DESIGN guarantee 3), and the counter is
// stored sealed.
func TestManagerEncryptedIncrExact(t *testing.T) {
	const goroutines, increments = 8, 25
	store := &keyLog{Store: memstore.New()}
	h := encManager(t, store, &eventLog{}, newEncKey(t))
	_, c := get(t, h, "/login", "")
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range increments {
				if rec, _ := get(t, h, "/incr", c); rec.Code != http.StatusOK {
					t.Errorf("/incr: got %d %s, want 200", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	rec, _ := get(t, h, "/incr", c)
	if got, want := rec.Body.String(), strconv.Itoa(goroutines*increments+1); got != want {
		t.Fatalf("after %d×%d concurrent increments, the next one: got %s, want %s", goroutines, increments, got, want)
	}
	if dump := store.dump(t); bytes.Contains(dump, []byte(`"n":`+rec.Body.String())) {
		t.Fatalf("the counter is stored in the clear: %s", dump)
	}
}

// Renewal (issue 11.3) keeps working with encryption: its compare-and-set
// on the renewal state runs through the encrypting store on plaintext. The
// renewing request costs the inner store one read more (two Updates); the
// replaced cookie still works in its grace and is token reuse after it.
func TestManagerEncryptedRenewal(t *testing.T) {
	const interval, grace = 10 * time.Minute, time.Minute
	f := newFixture(t, func(c *tether.Config) {
		c.RenewInterval, c.RenewGrace = interval, grace
		c.EncryptionKeys = [][]byte{newEncKey(t)}
	})
	_, old := f.do(t, "/login", "")
	f.clock.Add(interval)
	f.store.reset()
	rec, renewed := f.do(t, "/get", old)
	if rec.Body.String() != "user-1|" || renewed == "" || renewed == "-" || renewed == old {
		t.Fatalf("request after the interval: got %q, cookie %q; want served with a renewed cookie", rec.Body, renewed)
	}
	if got := f.store.updates.Load(); got != 2 {
		t.Fatalf("inner Updates of the renewing request: got %d, want 2 (a read and the compare-and-set)", got)
	}
	if rec, _ := f.do(t, "/get", old); rec.Body.String() != "user-1|" {
		t.Fatalf("replaced cookie in its grace: got %q, want served", rec.Body)
	}
	f.clock.Add(grace)
	if rec, _ := f.do(t, "/get", old); rec.Body.String() != "|" || !f.events.has(tether.EventTokenReuse) {
		t.Fatalf("replaced cookie after its grace: got %q, events %v; want no session and token_reuse", rec.Body, f.events.types())
	}
	if rec, _ := f.do(t, "/get", renewed); rec.Body.String() != "|" {
		t.Fatalf("renewed cookie after token reuse: got %q, want no session (ended for both)", rec.Body)
	}
}

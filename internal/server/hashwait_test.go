package server

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/passwords"
	"github.com/tetherhq/tether/throttle"
)

// A burst of logins that no throttle stops (unknown accounts from many
// addresses) must all be answered: a check that cannot get a hashing slot
// within Options.HashWait gets 429 with Retry-After and a rate_limited event
// (limit "hashing"), never a wait past the server's WriteTimeout that ends
// with the connection closed unanswered (issue 12, floods: 813 of 1,000
// logins went unanswered before).
func TestLoginBurstBoundedHashWait(t *testing.T) {
	// One slot and a hash that takes tens of milliseconds: with 8 logins at
	// once, all but the first must wait longer than the 1 ms HashWait.
	h := passwords.NewHasherWith(passwords.Params{Memory: 8 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	dir, err := users.Open(filepath.Join(t.TempDir(), "u.db"), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	if _, err := dir.Add(context.Background(), "alice", "correct-horse", users.RoleUser); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		events []tether.Event
	)
	cfg := tether.Config{OnEvent: func(e tether.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }}
	for _, tc := range []struct {
		name      string
		wait      time.Duration
		wantBusy  bool
		wantOther int
	}{
		{"bounded wait", time.Millisecond, true, http.StatusUnauthorized},
		{"ample wait", time.Minute, false, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, cfg, Options{Users: dir, HashWait: tc.wait,
				Throttle: throttle.New(throttle.NewMemory(nil), throttle.Policy{AccountLimit: 1000, IPLimit: 1000})})
			send := sender(s.Handler())
			const n = 8
			codes := make([]int, n)
			retry := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					rec := send("POST", "/login", `{"username":"nobody","password":"wrong-horse"}`, "")
					codes[i], retry[i] = rec.Code, rec.Header().Get("Retry-After")
				})
			}
			wg.Wait()
			busy := 0
			for i, c := range codes {
				switch {
				case c == http.StatusTooManyRequests && retry[i] != "":
					busy++
				case c != tc.wantOther:
					t.Errorf("login %d: got %d, want %d or 429 with Retry-After", i, c, tc.wantOther)
				}
			}
			if got := busy > 0; got != tc.wantBusy {
				t.Fatalf("429s for busy hashing: got %d of %d (statuses %v), want some: %v", busy, n, codes, tc.wantBusy)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, e := range events {
		if e.Type == tether.EventRateLimited {
			for _, a := range e.Attrs {
				if a.Key == "limit" && a.Value.String() == "hashing" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no rate_limited event with limit hashing among %d events", len(events))
	}
}

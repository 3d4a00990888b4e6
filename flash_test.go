package tether_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// Pop returns the value and removes the key; the removal is saved as a patch
// that deletes that key only, and the next request no longer sees it.
func TestPop(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		wantFound bool
		wantErr   bool
		want      int64
		wantKeys  []string // in the next request
		wantPatch *tether.Patch
	}{
		{"missing", "none", false, false, 0, []string{"n", "other", "s"}, nil},
		{"its type", "n", true, false, 7, []string{"other", "s"}, &tether.Patch{Delete: []string{"n"}}},
		{"another type is kept", "s", true, true, 0, []string{"n", "other", "s"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newDataClient(t, nil)
			c.set(map[string]any{"n": 7, "s": "seven", "other": "kept"})
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				var n int64
				found, err := s.Pop(tt.key, &n)
				if found != tt.wantFound || (err != nil) != tt.wantErr || n != tt.want {
					t.Errorf("Pop(%q): got %v, %v, %d; want %v, error %v, %d", tt.key, found, err, n, tt.wantFound, tt.wantErr, tt.want)
				}
				if found, _ := s.Pop(tt.key, &n); found && !tt.wantErr {
					t.Errorf("second Pop(%q) in the same request: got found, want removed", tt.key)
				}
			})
			checkPatches(t, c.store.takePatches(), tt.wantPatch)
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				if got := s.Keys(); !slices.Equal(got, tt.wantKeys) {
					t.Errorf("keys in the next request: got %q, want %q", got, tt.wantKeys)
				}
			})
		})
	}
}

// checkPatches fails unless the request saved exactly want (nil: nothing).
func checkPatches(t *testing.T, got []tether.Patch, want *tether.Patch) {
	t.Helper()
	if want == nil {
		if len(got) != 0 {
			t.Errorf("saved patches: got %+v, want none", got)
		}
		return
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0].Delete, want.Delete) || len(got[0].Set) != len(want.Set) || len(got[0].Incr) != 0 {
		t.Errorf("saved patches: got %+v, want one %+v", got, *want)
		return
	}
	for k, v := range want.Set {
		if string(got[0].Set[k]) != string(v) {
			t.Errorf("saved patches: got %+v, want one %+v", got, *want)
		}
	}
}

// A Pop's removal is a patch of its key only: a concurrent request that
// changes another key of the same session keeps its change, whichever saves
// first.
func TestPopKeepsConcurrentChangesToOtherKeys(t *testing.T) {
	for _, popFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("pop saved first: %v", popFirst), func(t *testing.T) {
			c := newDataClient(t, nil)
			c.set(map[string]any{"notice": "hello", "theme": "light"})
			popped := make(chan struct{})
			release := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.serve(c.request(), func(w http.ResponseWriter, s *tether.Session) {
					if got := s.PopString("notice"); got != "hello" {
						t.Errorf("PopString: got %q, want hello", got)
					}
					close(popped)
					<-release
				})
			}()
			<-popped
			other := func() {
				c.serve(c.request(), func(w http.ResponseWriter, s *tether.Session) {
					if err := s.Set("theme", "dark"); err != nil {
						t.Errorf("Set: %v", err)
					}
				})
			}
			if popFirst {
				close(release)
				wg.Wait()
				other()
			} else {
				other()
				close(release)
				wg.Wait()
			}
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				if got := s.Keys(); !slices.Equal(got, []string{"theme"}) {
					t.Errorf("keys: got %q, want [theme]", got)
				}
				if got := s.GetString("theme"); got != "dark" {
					t.Errorf("theme: got %q, want dark (the concurrent change)", got)
				}
			})
		})
	}
}

// Every typed Pop reads as its getter does and removes the key, whatever the
// type of its value; a missing key saves nothing.
func TestTypedPops(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", -3*3600))
	stored := map[string]any{"s": "alice", "b": true, "i": 42, "f": 2.5, "t": at, "y": []byte("hi")}
	tests := []struct {
		pop  string
		fn   func(*tether.Session, string) any
		key  string
		want any
	}{
		{"PopString", func(s *tether.Session, k string) any { return s.PopString(k) }, "s", "alice"},
		{"PopBool", func(s *tether.Session, k string) any { return s.PopBool(k) }, "b", true},
		{"PopInt", func(s *tether.Session, k string) any { return s.PopInt(k) }, "i", 42},
		{"PopInt64", func(s *tether.Session, k string) any { return s.PopInt64(k) }, "i", int64(42)},
		{"PopFloat64", func(s *tether.Session, k string) any { return s.PopFloat64(k) }, "f", 2.5},
		{"PopTime", func(s *tether.Session, k string) any { return s.PopTime(k) }, "t", at},
		{"PopBytes", func(s *tether.Session, k string) any { return s.PopBytes(k) }, "y", []byte("hi")},
	}
	for _, tt := range tests {
		t.Run(tt.pop, func(t *testing.T) {
			zero := reflect.Zero(reflect.TypeOf(tt.want)).Interface()
			wrong := "s"
			if tt.key == "s" {
				wrong = "i"
			}
			for _, step := range []struct {
				key       string
				popFirst  bool // popped by an earlier request
				want      any
				wantPatch *tether.Patch
			}{
				{"missing", false, zero, nil},
				{tt.key, false, tt.want, &tether.Patch{Delete: []string{tt.key}}},
				{tt.key, true, zero, nil},
				{wrong, false, zero, &tether.Patch{Delete: []string{wrong}}},
			} {
				c := newDataClient(t, nil)
				c.set(stored)
				if step.popFirst {
					c.run(func(w http.ResponseWriter, s *tether.Session) { tt.fn(s, tt.key) })
					c.store.takePatches()
				}
				c.run(func(w http.ResponseWriter, s *tether.Session) {
					if got := tt.fn(s, step.key); !sameValue(got, step.want) {
						t.Errorf("%s(%q): got %#v, want %#v", tt.pop, step.key, got, step.want)
					}
				})
				checkPatches(t, c.store.takePatches(), step.wantPatch)
				c.run(func(w http.ResponseWriter, s *tether.Session) {
					if slices.Contains(s.Keys(), step.key) {
						t.Errorf("%s(%q): the key is still there in the next request", tt.pop, step.key)
					}
				})
			}
		})
	}
}

// Pop during a store outage returns the outage and removes nothing.
func TestPopDuringStoreOutage(t *testing.T) {
	c := newDataClient(t, nil)
	c.set(map[string]any{"n": 1})
	c.store.setDown(true)
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		var n int
		if found, err := s.Pop("n", &n); found || !errors.Is(err, tether.ErrStoreUnavailable) {
			t.Errorf("Pop during an outage: got %v, %v; want false, ErrStoreUnavailable", found, err)
		}
		if msgs, err := s.Flashes(); msgs != nil || !errors.Is(err, tether.ErrStoreUnavailable) {
			t.Errorf("Flashes during an outage: got %q, %v; want nil, ErrStoreUnavailable", msgs, err)
		}
	})
	c.store.setDown(false)
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got := s.GetInt("n"); got != 1 {
			t.Errorf("after the outage: got %d, want 1", got)
		}
	})
}

// A flash message is shown once, on the next page that reads Flashes, in the
// order messages were added, whether added in one request or several.
func TestFlashesShownOnceInOrder(t *testing.T) {
	c := newDataClient(t, nil)
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		for _, m := range []string{"one", "two", "three"} {
			if err := s.AddFlash(m); err != nil {
				t.Fatalf("AddFlash: %v", err)
			}
		}
		_ = s.Set("theme", "dark")
	})
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if err := s.AddFlash("four"); err != nil {
			t.Fatalf("AddFlash: %v", err)
		}
	})
	c.store.takePatches()
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		got, err := s.Flashes()
		if want := []string{"one", "two", "three", "four"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Flashes: got %q, %v; want %q", got, err, want)
		}
		if got, _ := s.Flashes(); got != nil {
			t.Errorf("Flashes again in the same request: got %q, want none", got)
		}
	})
	patches := c.store.takePatches()
	if len(patches) != 1 || len(patches[0].Delete) != 4 || len(patches[0].Set) != 0 {
		t.Errorf("saved patches: got %+v, want one that deletes the 4 messages", patches)
	}
	for _, k := range patches[0].Delete {
		if !strings.HasPrefix(k, "tether.flash.") {
			t.Errorf("Flashes deleted %q, want only flash keys", k)
		}
	}
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got, err := s.Flashes(); got != nil || err != nil {
			t.Errorf("Flashes in the next request: got %q, %v; want none", got, err)
		}
		if got := s.Keys(); !slices.Equal(got, []string{"theme"}) {
			t.Errorf("keys: got %q, want [theme]", got)
		}
	})
}

// A request without a session reads no flash and costs no store call, and
// sets no cookie.
func TestFlashesWithoutSession(t *testing.T) {
	c := newDataClient(t, nil)
	rec := c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got, err := s.Flashes(); got != nil || err != nil {
			t.Errorf("Flashes: got %q, %v; want none", got, err)
		}
	})
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie: got %q, want none", got)
	}
	if p := c.store.takePatches(); len(p) != 0 {
		t.Errorf("saved patches: got %+v, want none", p)
	}
}

// A message added while another request reads the flashes is not lost: each
// request removes only the messages it read.
func TestFlashAddedDuringReadIsKept(t *testing.T) {
	c := newDataClient(t, nil)
	c.run(func(w http.ResponseWriter, s *tether.Session) { _ = s.AddFlash("first") })
	read := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.serve(c.request(), func(w http.ResponseWriter, s *tether.Session) {
			if got, _ := s.Flashes(); !slices.Equal(got, []string{"first"}) {
				t.Errorf("Flashes: got %q, want [first]", got)
			}
			close(read)
			<-release
		})
	}()
	<-read
	c.serve(c.request(), func(w http.ResponseWriter, s *tether.Session) {
		if err := s.AddFlash("second"); err != nil {
			t.Errorf("AddFlash: %v", err)
		}
	})
	close(release)
	wg.Wait()
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got, _ := s.Flashes(); !slices.Equal(got, []string{"second"}) {
			t.Errorf("Flashes after the concurrent add: got %q, want [second]", got)
		}
	})
}

// What the Flashes doc says: two requests that read at the same moment can
// both show a message; neither fails, and it is gone afterwards.
func TestFlashesConcurrentReadersMayBothShow(t *testing.T) {
	c := newDataClient(t, nil)
	c.run(func(w http.ResponseWriter, s *tether.Session) { _ = s.AddFlash("saved") })
	var (
		wg      sync.WaitGroup
		bothRan sync.WaitGroup
		mu      sync.Mutex
		shown   [][]string
	)
	bothRan.Add(2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := c.serve(c.request(), func(w http.ResponseWriter, s *tether.Session) {
				got, err := s.Flashes()
				if err != nil {
					t.Errorf("Flashes: %v", err)
				}
				mu.Lock()
				shown = append(shown, got)
				mu.Unlock()
				bothRan.Done()
				bothRan.Wait() // both have read before either saves
			})
			if rec.Code != http.StatusOK {
				t.Errorf("status: got %d, want 200", rec.Code)
			}
		}()
	}
	wg.Wait()
	for _, got := range shown {
		if !slices.Equal(got, []string{"saved"}) {
			t.Errorf("a concurrent reader: got %q, want [saved]", got)
		}
	}
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got, _ := s.Flashes(); got != nil {
			t.Errorf("Flashes afterwards: got %q, want none", got)
		}
	})
}

// AddFlash counts towards MaxValueBytes and refuses to grow the session
// beyond it.
func TestAddFlashSizeLimit(t *testing.T) {
	c := newDataClient(t, func(cfg *tether.Config) { cfg.MaxValueBytes = 200 })
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if err := s.AddFlash("short"); err != nil {
			t.Errorf("AddFlash of a short message: %v", err)
		}
		if err := s.AddFlash(strings.Repeat("x", 200)); !errors.Is(err, tether.ErrValueTooLarge) {
			t.Errorf("AddFlash beyond MaxValueBytes: got %v, want ErrValueTooLarge", err)
		}
	})
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got, _ := s.Flashes(); !slices.Equal(got, []string{"short"}) {
			t.Errorf("Flashes: got %q, want [short]", got)
		}
	})
}

// Flash keys sort in the order they were made, even when the clock does not
// move between two calls, and a value under a flash key that is not a string
// is removed without being shown.
func TestFlashKeysOrderAndForeignValues(t *testing.T) {
	c := newDataClient(t, nil)
	const n = 200
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		for i := range n {
			if err := s.AddFlash(fmt.Sprint(i)); err != nil {
				t.Fatalf("AddFlash: %v", err)
			}
		}
		if err := s.Set("tether.flash.zzz", 7); err != nil {
			t.Fatalf("Set: %v", err)
		}
	})
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		got, err := s.Flashes()
		if err != nil || len(got) != n {
			t.Fatalf("Flashes: got %d messages, %v; want %d", len(got), err, n)
		}
		for i, m := range got {
			if m != fmt.Sprint(i) {
				t.Fatalf("Flashes[%d]: got %q, want %d", i, m, i)
			}
		}
	})
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		if keys := s.Keys(); len(keys) != 0 {
			t.Errorf("keys afterwards: got %q, want none", keys)
		}
	})
}

// After the response has started, Pop and Flashes return ErrResponseStarted
// and the value stays for the next request; a typed Pop returns the value,
// keeps the key and Err reports it.
func TestPopAfterResponseStarted(t *testing.T) {
	tests := []struct {
		name string
		pop  func(t *testing.T, s *tether.Session)
		key  string
	}{
		{"Pop", func(t *testing.T, s *tether.Session) {
			var v string
			if _, err := s.Pop("v", &v); !errors.Is(err, tether.ErrResponseStarted) {
				t.Errorf("Pop after the response started: got %v, want ErrResponseStarted", err)
			}
		}, "v"},
		{"PopString", func(t *testing.T, s *tether.Session) {
			if got := s.PopString("v"); got != "x" {
				t.Errorf("PopString after the response started: got %q, want x", got)
			}
			if err := s.Err(); !errors.Is(err, tether.ErrResponseStarted) {
				t.Errorf("Err after a late PopString: got %v, want ErrResponseStarted", err)
			}
		}, "v"},
		{"Flashes", func(t *testing.T, s *tether.Session) {
			if got, err := s.Flashes(); got != nil || !errors.Is(err, tether.ErrResponseStarted) {
				t.Errorf("Flashes after the response started: got %q, %v; want nil, ErrResponseStarted", got, err)
			}
		}, "flash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newDataClient(t, nil)
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				_ = s.Set("v", "x")
				_ = s.AddFlash("later")
			})
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				_, _ = w.Write([]byte("page"))
				tt.pop(t, s)
			})
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				if got := s.GetString("v"); got != "x" {
					t.Errorf("value in the next request: got %q, want x", got)
				}
				if got, _ := s.Flashes(); !slices.Equal(got, []string{"later"}) {
					t.Errorf("Flashes in the next request: got %q, want [later]", got)
				}
			})
		})
	}
}

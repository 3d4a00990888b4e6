package tether_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// Increments through several wrappers on one store (instances of a server
// sharing Redis: their turn-taking does not span them) stay exact; the
// compare-and-set retries on conflicts.
func TestEncryptStoreIncrAcrossInstances(t *testing.T) {
	const instances, goroutines, increments = 4, 3, 20
	keys := [][]byte{newEncKey(t)}
	mem := memstore.New()
	key := strings.Repeat("1c", 32)
	mustCreate(t, encrypt(t, mem, keys...), key, sensitiveRecord())
	var wg sync.WaitGroup
	for range instances {
		s := encrypt(t, mem, keys...)
		for range goroutines {
			wg.Go(func() {
				for range increments {
					if _, err := s.Update(t.Context(), key, time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}}); err != nil {
						t.Errorf("Update: got %v, want nil", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	rec, err := encrypt(t, mem, keys...).Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(rec.Values["n"]), strconv.Itoa(1+instances*goroutines*increments); got != want {
		t.Fatalf("n: got %s, want %s", got, want)
	}
}

// interloper is a store on which another writer changes the value "n"
// between every read and write of the wrapper above it.
type interloper struct {
	*memstore.Store
	other tether.Store // a second wrapper on the same memstore
	key   string
}

func (s *interloper) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	if len(p.Expect) > 0 {
		if _, err := s.other.Update(ctx, s.key, now, &tether.Patch{Set: map[string]json.RawMessage{"n": json.RawMessage("1")}}); err != nil {
			return nil, err
		}
	}
	return s.Store.Update(ctx, key, now, p)
}

// A compare-and-set that loses every round gives up after a bound with an
// error the middleware answers with 503, and changes nothing.
func TestEncryptStoreContentionGivesUp(t *testing.T) {
	keys := [][]byte{newEncKey(t)}
	mem := memstore.New()
	key := strings.Repeat("2d", 32)
	inner := &interloper{Store: mem, other: encrypt(t, mem, keys...), key: key}
	s := encrypt(t, inner, keys...)
	mustCreate(t, s, key, sensitiveRecord())
	_, err := s.Update(t.Context(), key, time.Now(), &tether.Patch{Incr: map[string]int64{"n": 5}, Set: map[string]json.RawMessage{"x": json.RawMessage("2")}})
	if !errors.Is(err, tether.ErrEncryptedContention) || !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Update: got %v, want ErrEncryptedContention matching ErrStoreUnavailable", err)
	}
	rec, err := s.Load(t.Context(), key, time.Now(), time.Now().Add(time.Minute))
	if err != nil || string(rec.Values["n"]) != "1" || rec.Values["x"] != nil {
		t.Fatalf("after giving up: got %v, n=%s x=%s; want n=1 (the other writer's) and no x", err, rec.Values["n"], rec.Values["x"])
	}
}

package dbsc_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/memstore"
)

// sessionChallenges is the storage rule of sessionvalues.go on a real
// tether store: the shape the session wiring will have.
type sessionChallenges struct {
	store tether.Store
	key   string
}

func (s sessionChallenges) Put(ctx context.Context, digest string, expires time.Time) error {
	v := strconv.FormatInt(dbsc.ChallengeValue(expires), 10)
	_, err := s.store.Update(ctx, s.key, time.Now(), &tether.Patch{Set: map[string]json.RawMessage{dbsc.ChallengeKey(digest): json.RawMessage(v)}})
	return err
}

func (s sessionChallenges) Take(ctx context.Context, digest string) (time.Time, bool, error) {
	k := dbsc.ChallengeKey(digest)
	rec, err := s.store.Update(ctx, s.key, time.Now(), &tether.Patch{Incr: map[string]int64{k: dbsc.TakeIncrement}})
	if err != nil {
		return time.Time{}, false, err
	}
	var after int64
	if err := json.Unmarshal(rec.Values[k], &after); err != nil {
		return time.Time{}, false, err
	}
	exp, ok := dbsc.TakenExpiry(after)
	return exp, ok, nil
}

// Issue 16 "replay and concurrency (two refreshes at once)", with challenges
// kept in session values: a challenge is taken once, by exactly one of
// concurrent takers; an unknown one never; another request's challenge
// survives.
func TestChallengesInSessionValues(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	now := time.Now()
	if err := st.Create(ctx, "sess", &tether.Record{CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := &dbsc.Challenges{Store: sessionChallenges{st, "sess"}}

	if err := c.Consume(ctx, "never-issued"); err != dbsc.ErrChallenge {
		t.Fatalf("unknown challenge: got %v, want ErrChallenge", err)
	}
	for round := range 20 {
		ch, err := c.Issue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, err := c.Issue(ctx) // a concurrent request's challenge
		if err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if c.Consume(ctx, ch) == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("round %d: %d takers succeeded, want 1", round, got)
		}
		if err := c.Consume(ctx, other); err != nil {
			t.Fatalf("round %d: the other request's challenge: got %v, want nil", round, err)
		}
	}
}

func TestTakenExpiry(t *testing.T) {
	e := time.Unix(1_800_000_000, 0)
	v := dbsc.ChallengeValue(e)
	cases := []struct {
		name  string
		after int64
		ok    bool
	}{
		{"first take", v + dbsc.TakeIncrement, true},
		{"second take", v + 2*dbsc.TakeIncrement, false},
		{"never issued", dbsc.TakeIncrement, false},
		{"not taken at all", v, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := dbsc.TakenExpiry(tc.after)
			if ok != tc.ok || (ok && !got.Equal(e)) {
				t.Fatalf("got %v, %v; want ok %v (expiry %v)", got, ok, tc.ok, e)
			}
		})
	}
}

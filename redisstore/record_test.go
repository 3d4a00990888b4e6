package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tetherhq/tether"
)

// TestIncrMatchesBigInt checks the update script's integer addition (Lua
// numbers are doubles, so it adds in two exact halves) against math/big on
// random values, dense near the int64 bounds, the 2^53 double limit and the
// 10^9 split, where a mistake would show.
func TestIncrMatchesBigInt(t *testing.T) {
	s, _ := newIndexStore(t)
	ctx, now := t.Context(), time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	edges := []int64{0, 1, -1, 1e9 - 1, 1e9, -1e9, 1 << 53, -(1 << 53), (1 << 53) + 1, math.MaxInt64, math.MinInt64,
		math.MaxInt64 / 2, math.MinInt64 / 2, 999999999999999999, -999999999999999999}
	pick := func() int64 {
		switch rng.IntN(3) {
		case 0:
			return edges[rng.IntN(len(edges))] + rng.Int64N(5) - 2
		case 1:
			return int64(rng.Uint64())
		default:
			return rng.Int64N(2e9) - 1e9
		}
	}
	lo, hi := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	for i := range 400 {
		a, d := pick(), pick()
		key := fmt.Sprintf("incr-%d", i)
		rec := &tether.Record{CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(time.Hour),
			Values: map[string]json.RawMessage{"n": json.RawMessage(fmt.Sprint(a))}}
		if err := s.Create(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
		got, err := s.Update(ctx, key, now, &tether.Patch{Incr: map[string]int64{"n": d}})
		sum := new(big.Int).Add(big.NewInt(a), big.NewInt(d))
		if sum.Cmp(lo) < 0 || sum.Cmp(hi) > 0 {
			if !errors.Is(err, tether.ErrNotInteger) {
				t.Fatalf("%d + %d overflows int64: got (%v, %v), want ErrNotInteger", a, d, got, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d + %d: got %v, want %s", a, d, err, sum)
		}
		if v := string(got.Values["n"]); v != sum.String() {
			t.Fatalf("%d + %d: got %s, want %s", a, d, v, sum)
		}
	}
}

// A key under the session prefix that is not a session of this format (a
// hash written by an earlier development build, another program's key)
// reads as no session: Load and Update report ErrNotFound, and the user's
// listing skips it, instead of failing every request with a WRONGTYPE
// error that would look like an outage.
func TestForeignKeyIsNoSession(t *testing.T) {
	s, rdb := newIndexStore(t)
	ctx, now := t.Context(), time.Now()
	rec := &tether.Record{UserID: "user-1", CreatedAt: now, AuthenticatedAt: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)}
	if err := s.Create(ctx, "good", rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "old", rec); err != nil {
		t.Fatal(err)
	}
	// Replace "old" by a hash, as the earlier format stored sessions.
	rdb.Del(ctx, s.sessionKey("old"))
	if err := rdb.HSet(ctx, s.sessionKey("old"), "_i", "1", "_a", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "old", now, now.Add(time.Hour)); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load of a hash: got (%v, %v), want ErrNotFound", got, err)
	}
	if got, err := s.Update(ctx, "old", now, &tether.Patch{Incr: map[string]int64{"n": 1}}); !errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Update of a hash: got (%v, %v), want ErrNotFound", got, err)
	}
	list, err := s.ListUser(ctx, "user-1", now)
	if err != nil || len(list) != 1 || list["good"] == nil {
		t.Fatalf("ListUser with a hash among the sessions: got (%v, %v), want only %q", list, err, "good")
	}
	// A string that is not a session fails loudly when loaded: it is
	// corruption, not absence. The user's listing leaves it out instead of
	// failing, and DeleteUser still deletes it.
	if err := s.Create(ctx, "junk", rec); err != nil {
		t.Fatal(err)
	}
	rdb.Set(ctx, s.sessionKey("junk"), "not a session", time.Hour)
	if _, err := s.Load(ctx, "junk", now, now.Add(time.Hour)); err == nil || errors.Is(err, tether.ErrNotFound) {
		t.Fatalf("Load of a foreign string: got %v, want an error other than ErrNotFound", err)
	}
	list, err = s.ListUser(ctx, "user-1", now)
	if err != nil || len(list) != 1 || list["good"] == nil {
		t.Fatalf("ListUser with a damaged session among the user's: got (%v, %v), want only %q", list, err, "good")
	}
	if n, err := s.DeleteUser(ctx, "user-1"); err != nil || n != 3 {
		t.Fatalf("DeleteUser: got (%d, %v), want 3 deleted (good, old, junk)", n, err)
	}
}

// TestLargePatchMatchesApply: a patch of more than 8 keys takes the update
// script's indexed path; small ones scan. Both must give what Patch.Apply
// gives.
func TestLargePatchMatchesApply(t *testing.T) {
	s, _ := newIndexStore(t)
	ctx, now := t.Context(), time.Now().Truncate(time.Millisecond)
	for _, size := range []int{2, 9, 40} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			rec := &tether.Record{UserID: "u", CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour),
				Values: map[string]json.RawMessage{}}
			for i := range size {
				rec.Values[fmt.Sprintf("k%d", i)] = json.RawMessage(fmt.Sprint(i))
			}
			key := fmt.Sprintf("large-%d", size)
			if err := s.Create(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			p := &tether.Patch{Set: map[string]json.RawMessage{}, Incr: map[string]int64{}}
			for i := 0; i < size; i += 2 {
				p.Set[fmt.Sprintf("k%d", i)] = json.RawMessage(`"set"`)
				p.Set[fmt.Sprintf("new%d", i)] = json.RawMessage(`true`)
			}
			for i := 1; i < size; i += 4 {
				p.Delete = append(p.Delete, fmt.Sprintf("k%d", i), fmt.Sprintf("absent%d", i))
			}
			for i := 3; i < size; i += 4 {
				p.Incr[fmt.Sprintf("k%d", i)] = 10
			}
			p.Incr["fresh"] = -5
			want := &tether.Record{UserID: rec.UserID, CreatedAt: rec.CreatedAt, IdleDeadline: rec.IdleDeadline,
				AbsoluteDeadline: rec.AbsoluteDeadline, Values: map[string]json.RawMessage{}}
			for k, v := range rec.Values {
				want.Values[k] = v
			}
			if err := p.Apply(want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Update(ctx, key, now, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Values) != len(want.Values) {
				t.Fatalf("values: got %d, want %d", len(got.Values), len(want.Values))
			}
			for k, v := range want.Values {
				if string(got.Values[k]) != string(v) {
					t.Fatalf("value %s: got %s, want %s", k, got.Values[k], v)
				}
			}
		})
	}
}

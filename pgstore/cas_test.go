package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// storedValues reads the values of the row under key directly (nil when
// there is no row).
func storedValues(t *testing.T, conn *pgx.Conn, key string) map[string]any {
	t.Helper()
	var vals map[string]any
	err := conn.QueryRow(context.Background(), `SELECT vals FROM tether_sessions WHERE key = $1`, key).Scan(&vals)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// An Update that has to wait for the row lock of a concurrent writer checks
// Patch.Expect, like liveness, against the version that writer committed,
// not the one its statement started from. Guards against the lost
// compare-and-set of the old statement: its NOT EXISTS was planned as an
// anti-join, whose inner side READ COMMITTED's recheck (EvalPlanQual) sees
// as empty, so after a lock wait every Expect held and two of concurrent
// compare-and-set Updates applied (TestConformance/UpdateExpectConcurrent,
// about one run in 30).
func TestUpdateExpectAfterLockWait(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	s := open(t, u, pgstore.Options{SweepInterval: -1})
	holder, watcher, reader := connect(t, u), connect(t, u), connect(t, u)
	cases := []struct {
		name    string
		initial string         // the stored values before the writer
		writer  string         // what the concurrent writer runs ($1: the key)
		expect  map[string]any // Patch.Expect (nil value: the key must be absent)
		wantErr error
		want    map[string]any // the stored values after both; nil: no row
	}{
		{"expected absent, writer sets it", `{"n":1}`, `UPDATE tether_sessions SET vals = '{"gen":1,"n":1}' WHERE key = $1`,
			map[string]any{"gen": nil}, tether.ErrConflict, map[string]any{"gen": 1.0, "n": 1.0}},
		{"expected value, writer changes it", `{"gen":1}`, `UPDATE tether_sessions SET vals = '{"gen":2}' WHERE key = $1`,
			map[string]any{"gen": 1}, tether.ErrConflict, map[string]any{"gen": 2.0}},
		{"expected value, writer deletes the key", `{"gen":1}`, `UPDATE tether_sessions SET vals = '{}' WHERE key = $1`,
			map[string]any{"gen": 1}, tether.ErrConflict, map[string]any{}},
		{"expectation still holds: applied on the writer's version", `{"gen":1}`,
			`UPDATE tether_sessions SET vals = '{"gen":1,"other":"x"}' WHERE key = $1`,
			map[string]any{"gen": 1}, nil, map[string]any{"gen": 10.0, "other": "x", "tries": 1.0}},
		{"no Expect: the patch applies to the writer's version, no increment lost", `{"tries":4}`,
			`UPDATE tether_sessions SET vals = '{"tries":7,"w":true}' WHERE key = $1`,
			nil, nil, map[string]any{"gen": 10.0, "tries": 8.0, "w": true}},
		{"writer deletes the row: no resurrection", `{"gen":1}`, `DELETE FROM tether_sessions WHERE key = $1`,
			map[string]any{"gen": 1}, tether.ErrNotFound, nil},
		{"writer expires the row", `{"gen":1}`, `UPDATE tether_sessions SET idle_deadline = 1 WHERE key = $1`,
			map[string]any{"gen": 1}, tether.ErrNotFound, map[string]any{"gen": 1.0}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("lockwait-%d", i)
			now := time.Now().Truncate(time.Millisecond)
			var initial map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.initial), &initial); err != nil {
				t.Fatal(err)
			}
			rec := &tether.Record{Values: initial, CreatedAt: now, IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)}
			if err := s.Create(ctx, key, rec); err != nil {
				t.Fatalf("Create: got %v, want nil", err)
			}
			p := &tether.Patch{Set: map[string]json.RawMessage{"gen": json.RawMessage("10")}, Incr: map[string]int64{"tries": 1},
				Expect: map[string]json.RawMessage{}}
			for k, v := range tc.expect {
				p.Expect[k] = nil
				if v != nil {
					p.Expect[k] = json.RawMessage(fmt.Sprint(v))
				}
			}

			tx, err := holder.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tc.writer, key); err != nil {
				t.Fatal(err)
			}
			type result struct {
				rec *tether.Record
				err error
			}
			done := make(chan result, 1)
			go func() {
				r, err := s.Update(ctx, key, now, p)
				done <- result{r, err}
			}()
			waitBlocked(t, watcher, holder.PgConn().PID(), done)
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if !errors.Is(r.err, tc.wantErr) || (tc.wantErr == nil) != (r.err == nil) {
				t.Errorf("Update after waiting for the writer: got %v, want %v", r.err, tc.wantErr)
			}
			if got := storedValues(t, reader, key); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stored values: got %v, want %v", got, tc.want)
			}
		})
	}
}

// waitBlocked returns once a backend waits for a lock held by the backend
// pid, failing the test if the Update finishes first (it did not wait) or
// nothing waits within 10 s.
func waitBlocked[T any](t *testing.T, conn *pgx.Conn, pid uint32, done <-chan T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := conn.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))`, int32(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case r := <-done:
			t.Fatalf("Update returned %v without waiting for the writer's row lock; the test cannot check the recheck", r)
		case <-time.After(2 * time.Millisecond):
		}
	}
	t.Fatal("no Update waited for the writer's row lock within 10 s")
}

// Rounds of many concurrent compare-and-set Updates of one session, through
// a pool of many connections: in each round exactly one applies and every
// other one gets ErrConflict, and the counter each winner increments ends
// equal to the number of rounds. The old statement (see
// TestUpdateExpectAfterLockWait) failed this in most runs.
func TestUpdateExpectContention(t *testing.T) {
	const (
		workers = 50
		rounds  = 50
	)
	ctx := context.Background()
	u := pgtest.URL(t)
	s := open(t, u+"&pool_max_conns=16", pgstore.Options{SweepInterval: -1})
	now := time.Now().Truncate(time.Millisecond)
	const key = "contended"
	rec := &tether.Record{Values: map[string]json.RawMessage{"gen": json.RawMessage("0")}, CreatedAt: now,
		IdleDeadline: now.Add(time.Hour), AbsoluteDeadline: now.Add(2 * time.Hour)}
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatalf("Create: got %v, want nil", err)
	}
	for r := range rounds {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			won      []int
			failures []error
			start    = make(chan struct{})
		)
		for i := range workers {
			wg.Go(func() {
				<-start
				_, err := s.Update(ctx, key, now, &tether.Patch{
					Expect: map[string]json.RawMessage{"gen": json.RawMessage(fmt.Sprint(r))},
					Set:    map[string]json.RawMessage{"gen": json.RawMessage(fmt.Sprint(r + 1)), "by": json.RawMessage(fmt.Sprint(i))},
					Incr:   map[string]int64{"applied": 1},
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, i)
				case !errors.Is(err, tether.ErrConflict):
					failures = append(failures, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("round %d: got errors %v, want only nil or ErrConflict", r, failures)
		}
		if len(won) != 1 {
			t.Fatalf("round %d: compare-and-set Updates that applied: got %d (%v), want exactly 1", r, len(won), won)
		}
	}
	got := storedValues(t, connect(t, u), key)
	if want := float64(rounds); got["gen"] != want || got["applied"] != want {
		t.Errorf("after %d rounds: got gen %v and applied %v, want %v and %v", rounds, got["gen"], got["applied"], want, want)
	}
}

// Update's Expect check must stay a condition on the session's row (a
// subplan in the scan's filter), which READ COMMITTED evaluates again on the
// newest version of a row it had to wait for. A join (NOT EXISTS becomes an
// anti-join) is not rechecked against the newest version: its other side
// comes back empty, and every Expect holds (see
// TestUpdateExpectAfterLockWait).
func TestUpdateExpectPlan(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	open(t, u, pgstore.Options{SweepInterval: -1}).Close()
	conn := connect(t, u)
	empty := []string{}
	rows, err := conn.Query(ctx, `EXPLAIN `+pgstore.UpdateSQL, "k", time.Now().UnixMilli(), []string{"gen"}, []string{"1"},
		empty, []string{"tries"}, []int64{1}, int64(0), int64(0), []string{"gen", "v"}, []*string{nil, new("1")})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); strings.Contains(p, "Join") || !strings.Contains(p, "Filter: ") {
		t.Errorf("Update plan: got\n%s\nwant no join: Expect checked in the filter of the row's scan", p)
	}
}

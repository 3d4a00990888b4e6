package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// storedDeadline reads the idle deadline (Unix ms) of the row under key
// directly; ok is false when there is no row.
func storedDeadline(t *testing.T, conn *pgx.Conn, key string) (ms int64, ok bool) {
	t.Helper()
	err := conn.QueryRow(context.Background(), `SELECT idle_deadline FROM tether_sessions WHERE key = $1`, key).Scan(&ms)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return ms, true
}

// A Load that has to move the idle deadline and waits for the row lock of
// a concurrent writer decides on the version that writer committed: it
// does not bring back a row the writer deleted, extend one the writer
// expired, or write again a deadline the writer moved within a second of
// the one Load asks for, and it still moves one the writer moved back.
func TestLoadAfterLockWait(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	s := open(t, u, pgstore.Options{SweepInterval: -1})
	holder, watcher, reader := connect(t, u), connect(t, u), connect(t, u)
	now := time.Now().Truncate(time.Millisecond)
	idle, abs := now.Add(time.Hour), now.Add(3*time.Hour)
	asked := now.Add(2 * time.Hour) // the deadline Load asks for: a move
	cases := []struct {
		name   string
		writer string // $1: the key
		args   []any  // the writer's $2…
		want   int64  // the stored idle deadline after both; 0: no row
	}{
		{"writer deletes the row: no resurrection", `DELETE FROM tether_sessions WHERE key = $1`, nil, 0},
		{"writer expires the row: not extended", `UPDATE tether_sessions SET idle_deadline = 1 WHERE key = $1`, nil, 1},
		{"writer moved the deadline within a second of Load's: not written again",
			`UPDATE tether_sessions SET idle_deadline = $2 WHERE key = $1`, []any{asked.UnixMilli() - 500}, asked.UnixMilli() - 500},
		{"writer moved the deadline back: Load moves it to what it asked",
			`UPDATE tether_sessions SET idle_deadline = $2 WHERE key = $1`, []any{idle.UnixMilli() - 60000}, asked.UnixMilli()},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("loadwait-%d", i)
			rec := &tether.Record{Values: map[string]json.RawMessage{"n": json.RawMessage("1")}, CreatedAt: now,
				IdleDeadline: idle, AbsoluteDeadline: abs}
			if err := s.Create(ctx, key, rec); err != nil {
				t.Fatalf("Create: got %v, want nil", err)
			}
			tx, err := holder.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tc.writer, append([]any{key}, tc.args...)...); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				got, err := s.Load(ctx, key, now, asked)
				if got != nil {
					t.Logf("Load returned idle deadline %d", got.IdleDeadline.UnixMilli())
				}
				done <- err
			}()
			waitBlocked(t, watcher, holder.PgConn().PID(), done)
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil && !errors.Is(err, tether.ErrNotFound) {
				t.Errorf("Load after waiting for the writer: got %v, want nil or ErrNotFound", err)
			}
			got, ok := storedDeadline(t, reader, key)
			switch {
			case tc.want == 0 && ok:
				t.Errorf("row after Load: got one (idle deadline %d), want none", got)
			case tc.want != 0 && got != tc.want:
				t.Errorf("stored idle deadline: got %d, want %d", got, tc.want)
			}
		})
	}
}

package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// Values are stored as their exact JSON text: integers keep all 64 bits and
// only integer texts count as integers (1.0 and 1e3 are not, as in
// tether.Patch.Apply); U+0000, which PostgreSQL's JSON functions cannot
// process, is refused when written instead of breaking later updates.
func TestValues(t *testing.T) {
	s := open(t, pgtest.URL(t), pgstore.Options{SweepInterval: -1})
	ctx := context.Background()
	now := time.Now()
	cases := []struct {
		name    string
		stored  string
		incr    int64
		want    string // the value after the increment
		wantErr error
	}{
		{"integer", `41`, 1, `42`, nil},
		{"largest int64", `9223372036854775806`, 1, `9223372036854775807`, nil},
		{"overflow", `9223372036854775807`, 1, "", tether.ErrNotInteger},
		{"negative overflow", `-9223372036854775808`, -1, "", tether.ErrNotInteger},
		{"decimal 1.0", `1.0`, 1, "", tether.ErrNotInteger},
		{"exponent 1e3", `1e3`, 1, "", tether.ErrNotInteger},
		{"fraction", `2.5`, 1, "", tether.ErrNotInteger},
		{"string", `"5"`, 1, "", tether.ErrNotInteger},
		{"null", `null`, 1, "", tether.ErrNotInteger},
		{"object", `{"n":1}`, 1, "", tether.ErrNotInteger},
		{"text that looks like an escape", `"\\u0000"`, 0, "", tether.ErrNotInteger},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := record("", time.Hour)
			rec.Values = map[string]json.RawMessage{"n": json.RawMessage(tc.stored), "other": json.RawMessage(`"kept"`)}
			key := "values-" + tc.name
			if err := s.Create(ctx, key, rec); err != nil {
				t.Fatalf("Create: got %v, want nil", err)
			}
			got, err := s.Update(ctx, key, now, &tether.Patch{Incr: map[string]int64{"n": tc.incr}, Set: map[string]json.RawMessage{"x": json.RawMessage(`1`)}})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Update: got %v, want %v", err, tc.wantErr)
			}
			if err == nil && (string(got.Values["n"]) != tc.want || string(got.Values["other"]) != `"kept"`) {
				t.Fatalf("after Update: got n=%s other=%s, want n=%s other=\"kept\"", got.Values["n"], got.Values["other"], tc.want)
			}
			loaded, err := s.Load(ctx, key, now, rec.IdleDeadline)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != nil && (string(loaded.Values["n"]) != tc.stored || loaded.Values["x"] != nil) {
				t.Fatalf("after a failed Update: got n=%s x=%s, want n=%s and no x (the whole patch fails)", loaded.Values["n"], loaded.Values["x"], tc.stored)
			}
		})
	}

	t.Run("U+0000 refused", func(t *testing.T) {
		nul := json.RawMessage(`"a\u0000b"`)
		rec := record("", time.Hour)
		rec.Values["bad"] = nul
		if err := s.Create(ctx, "nul", rec); err == nil || errors.Is(err, tether.ErrStoreUnavailable) || !strings.Contains(err.Error(), "U+0000") {
			t.Fatalf("Create with U+0000: got %v, want a refusal naming U+0000", err)
		}
		if err := s.Create(ctx, "nul", record("", time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, err := s.Update(ctx, "nul", now, &tether.Patch{Set: map[string]json.RawMessage{"bad": nul}})
		if err == nil || !strings.Contains(err.Error(), "U+0000") {
			t.Fatalf("Update with U+0000: got %v, want a refusal naming U+0000", err)
		}
		if _, err := s.Update(ctx, "nul", now, &tether.Patch{Incr: map[string]int64{"views": 1}}); err != nil {
			t.Fatalf("Update after the refusal: got %v, want nil (the session is still usable)", err)
		}
	})
}

// Two Stores on one database (two server instances) never lose each
// other's increments.
func TestTwoInstances(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	a, b := open(t, u, pgstore.Options{}), open(t, u, pgstore.Options{})
	if err := a.Create(ctx, "k", record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	const each = 100
	var wg sync.WaitGroup
	errc := make(chan error, 2*each)
	for _, s := range []*pgstore.Store{a, b} {
		for range each {
			wg.Go(func() {
				_, err := s.Update(ctx, "k", time.Now(), &tether.Patch{Incr: map[string]int64{"n": 1}})
				errc <- err
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("Update through two Stores: got %v, want nil", err)
		}
	}
	got, err := b.Load(ctx, "k", time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Values["n"]) != "200" {
		t.Fatalf("counter after 2×%d increments through two Stores: got %s, want 200", each, got.Values["n"])
	}
}

// ListUser and DeleteUser go through the partial user_id index, and the
// sweeper through the expiry index, never a scan of the table (with
// sequential scans disabled, the plan must use the index).
func TestIndexPlans(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	open(t, u, pgstore.Options{SweepInterval: -1}).Close()
	conn := connect(t, u)
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	statements := []struct {
		name, sql, index string
		args             []any
	}{
		{"ListUser", pgstore.ListUserSQL, "tether_sessions_user", []any{"user-1001", time.Now().UnixMilli()}},
		{"DeleteUser", pgstore.DeleteUserSQL, "tether_sessions_user", []any{"user-1001"}},
		{"Sweep", pgstore.SweepSQL, "tether_sessions_expiry", []any{time.Now().UnixMilli(), 500}},
	}
	for _, st := range statements {
		rows, err := conn.Query(ctx, `EXPLAIN `+st.sql, st.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "\n"); !strings.Contains(p, st.index) || strings.Contains(p, "Seq Scan") {
			t.Errorf("%s plan: got\n%s\nwant a scan of the %s index", st.name, p, st.index)
		}
	}
}

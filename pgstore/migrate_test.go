package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// Instances that start at once on a new database apply the migrations
// exactly once (under the advisory lock), and all of them work; Inspect
// then reports the schema without changing it.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	if st, err := pgstore.Inspect(ctx, u); err != nil || st.Schema != 0 || st.Latest < 1 {
		t.Fatalf("Inspect of an empty schema: got %+v %v, want schema 0, latest >= 1", st, err)
	}
	const n = 4
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = pgstore.Open(ctx, u, pgstore.Options{SweepInterval: -1}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: got %v, want nil", i, err)
		}
		defer stores[i].Close()
	}
	conn := connect(t, u)
	var versions, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM tether_sessions_schema`).Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	st, err := pgstore.Inspect(ctx, u)
	if err != nil || versions != st.Latest || distinct != versions || st.Schema != st.Latest {
		t.Fatalf("after %d concurrent opens: %d version rows (%d distinct), Inspect %+v %v; want each of 1…%d once", n, versions, distinct, st, err, st.Latest)
	}
	if err := stores[0].Create(ctx, "k", record("user-1001", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[n-1].Load(ctx, "k", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Load through another instance: got %v, want nil", err)
	}
	if st, err := pgstore.Inspect(ctx, u); err != nil || st.Live != 1 {
		t.Fatalf("Inspect: got %+v %v, want 1 live session", st, err)
	}
}

// A database migrated by a newer program is refused rather than misread.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	open(t, u, pgstore.Options{SweepInterval: -1}).Close()
	if _, err := connect(t, u).Exec(ctx, `INSERT INTO tether_sessions_schema (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(ctx, u, pgstore.Options{})
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, pgstore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") || strings.Count(err.Error(), "pgstore:") != 1 {
		t.Fatalf("Open of a newer schema: got %v, want ErrNewerSchema naming version 99, with one pgstore: prefix", err)
	}
}

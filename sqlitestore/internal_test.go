package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/sqlmigrate"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "tether.db"), Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The hot and the per-user statements use their indexes, never a scan of
// the table (tether.UserIndex: "never a scan of the store").
func TestQueryPlans(t *testing.T) {
	s := openInternal(t)
	cases := []struct {
		name, sql string
		args      []any
		want      string
	}{
		{"Load", loadSQL, []any{1, 1, "k"}, "USING PRIMARY KEY"},
		{"ListUser", listUserSQL, []any{"u", 1}, "USING INDEX tether_sessions_user"},
		{"DeleteUser", deleteUserSQL, []any{"u"}, "USING INDEX tether_sessions_user"},
		{"Sweep", sweepSQL, []any{1, 10}, "INDEX tether_sessions_expiry"},
	}
	for _, tc := range cases {
		rows, err := s.wdb.Query("EXPLAIN QUERY PLAN "+tc.sql, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		t.Logf("%s: %s", tc.name, joined)
		if !strings.Contains(joined, tc.want) {
			t.Errorf("%s plan: got %q, want it %s", tc.name, joined, tc.want)
		}
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN tether_sessions") && !strings.Contains(step, "INDEX") {
				t.Errorf("%s plan: got a full table scan %q", tc.name, step)
			}
		}
	}
}

// The embedded migrations are numbered as sqlmigrate.Read requires.
func TestReadMigrations(t *testing.T) {
	got, err := sqlmigrate.Read(migrationFiles, "migrations")
	if err != nil || len(got) == 0 {
		t.Fatalf("embedded migrations: got %d (%v), want at least 1", len(got), err)
	}
}

// A request waiting for the write slot gives up when its context ends.
func TestWriteSlotHonoursContext(t *testing.T) {
	s := openInternal(t)
	s.write <- struct{}{} // another write in progress
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Load(ctx, "k", time.Now(), time.Now().Add(time.Minute))
	<-s.write
	if !errors.Is(err, tether.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load queued past its deadline: got %v, want ErrStoreUnavailable and DeadlineExceeded", err)
	}
}

// Close while a request waits for the write slot releases it at once.
func TestCloseReleasesWaiters(t *testing.T) {
	s := openInternal(t)
	s.write <- struct{}{}
	done := make(chan error, 1)
	go func() {
		_, err := s.Load(context.Background(), "k", time.Now(), time.Now().Add(time.Minute))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	go s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, tether.ErrStoreUnavailable) {
			t.Fatalf("Load waiting during Close: got %v, want ErrStoreUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load waiting for the write slot: still waiting 5 s after Close")
	}
	<-s.write
}

func TestURIPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"data/tether.db", "data/tether.db"},
		{"/var/lib/tether.db", "/var/lib/tether.db"},
		{"//server/share.db", "////server/share.db"},
		{"a?b#c%d.db", "a%3fb%23c%25d.db"},
	} {
		if got := uriPath(tc.in); got != tc.want {
			t.Errorf("uriPath(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

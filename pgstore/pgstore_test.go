package pgstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
	"github.com/tetherhq/tether/storetest"
)

// open opens a Store on url and closes it when the test ends.
func open(t testing.TB, url string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tether.Store {
		return open(t, pgtest.URL(t), pgstore.Options{})
	})
}

func record(user string, idle time.Duration) *tether.Record {
	now := time.Now().Truncate(time.Millisecond)
	return &tether.Record{
		Values:           map[string]json.RawMessage{"views": json.RawMessage("3")},
		UserID:           user,
		CreatedAt:        now,
		AuthenticatedAt:  now,
		IdleDeadline:     now.Add(idle),
		AbsoluteDeadline: now.Add(8 * time.Hour),
	}
}

package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// Inner stores with each combination of the optional capabilities, all
// backed by a memstore. Embedding the interfaces gives each type exactly
// the methods named.
type (
	plainInner struct{ tether.Store }
	pingInner  struct {
		tether.Store
		tether.Pinger
	}
	indexInner struct {
		tether.Store
		tether.UserIndex
	}
	pingIndexInner struct {
		tether.Store
		tether.Pinger
		tether.UserIndex
	}
)

// okPinger answers every Ping.
type okPinger struct{}

func (okPinger) Ping(context.Context) error { return nil }

// The wrapper has Pinger and UserIndex exactly when the inner store has
// them, and still times every call it makes.
func TestStoreCapabilities(t *testing.T) {
	cases := []struct {
		name  string
		inner func(*memstore.Store) tether.Store
	}{
		{"neither", func(s *memstore.Store) tether.Store { return plainInner{s} }},
		{"Pinger", func(s *memstore.Store) tether.Store { return pingInner{s, okPinger{}} }},
		{"UserIndex", func(s *memstore.Store) tether.Store { return indexInner{s, s} }},
		{"both", func(s *memstore.Store) tether.Store { return pingIndexInner{s, okPinger{}, s} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inner := tc.inner(memstore.New())
			m := New()
			s := m.Store(inner)
			_, innerPinger := inner.(tether.Pinger)
			_, innerIndex := inner.(tether.UserIndex)
			p, isPinger := s.(tether.Pinger)
			idx, isIndex := s.(tether.UserIndex)
			if isPinger != innerPinger || isIndex != innerIndex {
				t.Fatalf("wrapper (%T): got Pinger %v, UserIndex %v; want %v, %v as for the inner store",
					s, isPinger, isIndex, innerPinger, innerIndex)
			}

			ctx, now := context.Background(), time.Now()
			rec := &tether.Record{Values: map[string]json.RawMessage{}, UserID: "user-1001",
				CreatedAt: now, IdleDeadline: now.Add(time.Minute), AbsoluteDeadline: now.Add(time.Hour)}
			if err := s.Create(ctx, "k", rec); err != nil {
				t.Fatalf("Create: got %v, want nil", err)
			}
			want := map[string]bool{"create": true, "ping": isPinger, "list_user": isIndex, "delete_user": isIndex}
			if isPinger {
				if err := p.Ping(ctx); err != nil {
					t.Fatalf("Ping: got %v, want nil", err)
				}
			}
			if isIndex {
				if got, err := idx.ListUser(ctx, "user-1001", now); err != nil || len(got) != 1 {
					t.Fatalf("ListUser: got %d sessions (%v), want 1", len(got), err)
				}
				if n, err := idx.DeleteUser(ctx, "user-1001"); err != nil || n != 1 {
					t.Fatalf("DeleteUser: got %d (%v), want 1", n, err)
				}
			}
			out := scrape(t, m)
			for op, called := range want {
				sample := fmt.Sprintf(`tether_store_duration_seconds_count{op=%q} 1`, op)
				if got := strings.Contains(out, sample); got != called {
					t.Errorf("sample %s: got present=%v, want %v", sample, got, called)
				}
			}
		})
	}
}

// Regression: the wrapper hid memstore's development-only mark, so the
// server's production check passed a wrapped memstore. Unwrap lets
// tether.New see through it.
func TestWrappedDevelopmentStoreRefusedInProduction(t *testing.T) {
	wrapped := New().Store(memstore.New())
	_, err := tether.New(tether.Config{Store: wrapped, Secrets: [][]byte{make([]byte, 32)}, Production: true})
	if err == nil || !strings.Contains(err.Error(), "development only") {
		t.Fatalf("tether.New(production, wrapped memstore): got %v, want a development-only refusal", err)
	}
}

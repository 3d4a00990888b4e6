package pgstore_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/pgtest"
	"github.com/tetherhq/tether/pgstore"
)

// queryLog records the statements a pool sends (each is one round trip:
// the store sends no batches and no transactions).
type queryLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *queryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	verb, _, _ := strings.Cut(strings.TrimSpace(d.SQL), " ")
	l.stmts = append(l.stmts, verb)
	return ctx
}

func (l *queryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmts
	l.stmts = nil
	return out
}

// tracedStore opens a Store with New on a pool whose statements log records.
func tracedStore(t *testing.T, log *queryLog) (*pgstore.Store, *pgxpool.Pool) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pgstore.New(context.Background(), pool, pgstore.Options{SweepInterval: -1})
	if err != nil {
		t.Fatalf("New: got %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, pool
}

// Guarantee 1 (DESIGN), issue 12 deliverable 1: one round trip for an
// authenticated request that changes nothing, and for an increment; at most
// two for a change; none without a valid cookie.
func TestRoundTripsPerRequest(t *testing.T) {
	log := &queryLog{}
	store, _ := tracedStore(t, log)
	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Login("user-1001", "")
		_ = s.Set("username", "alice")
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, tether.FromContext(r.Context()).UserID())
	})
	mux.HandleFunc("/views", func(w http.ResponseWriter, r *http.Request) {
		_, _ = tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("theme", "dark")
	})
	h := m.Handler(mux)
	send := func(path, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	cookie := send("/login", "").Result().Cookies()[0].Value
	log.take()

	cases := []struct {
		name, path, cookie string
		want               []string
	}{
		{"read, refreshing the idle deadline", "/profile", cookie, []string{"WITH"}},
		{"read again within the second", "/profile", cookie, []string{"WITH"}},
		{"atomic increment as the first use: load and increment in one", "/views", cookie, []string{"UPDATE"}},
		{"page that never uses its session", "/other", cookie, nil},
		{"change", "/set", cookie, []string{"WITH", "UPDATE"}},
		{"no cookie", "/profile", "", nil},
		{"forged cookie", "/profile", cookie[:len(cookie)-2] + "AA", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if rec := send(tc.path, tc.cookie); rec.Code >= 500 {
				t.Fatalf("status: got %d, want < 500", rec.Code)
			}
			if got := log.take(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("statements: got %v, want %v", got, tc.want)
			}
		})
	}
}

// Load writes the row (a new row version, xmin) only when the idle
// deadline moves backwards or forwards by at least a second: 50 requests a
// second on one session cost about one write, not 50.
func TestLoadWritesAtMostOncePerSecond(t *testing.T) {
	store, pool := tracedStore(t, &queryLog{})
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	rec := &tether.Record{UserID: "user-1001", CreatedAt: now, AuthenticatedAt: now,
		IdleDeadline: now.Add(30 * time.Minute), AbsoluteDeadline: now.Add(8 * time.Hour)}
	if err := store.Create(ctx, "k", rec); err != nil {
		t.Fatal(err)
	}
	version := func() string {
		var xmin string
		if err := pool.QueryRow(ctx, `SELECT xmin::text FROM tether_sessions WHERE key = 'k'`).Scan(&xmin); err != nil {
			t.Fatal(err)
		}
		return xmin
	}
	idle := rec.IdleDeadline
	steps := []struct {
		name      string
		move      time.Duration // from the current idle deadline
		wantWrite bool
	}{
		{"same deadline", 0, false},
		{"forward by 999ms", 999 * time.Millisecond, false},
		{"forward by 1s", time.Second, true},
		{"forward by 1ms after that", time.Millisecond, false},
		{"backward by 1ms", -time.Millisecond, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := version()
			got, err := store.Load(ctx, "k", now, idle.Add(st.move))
			if err != nil {
				t.Fatal(err)
			}
			wrote := version() != before
			if wrote != st.wantWrite {
				t.Fatalf("row written: got %v, want %v", wrote, st.wantWrite)
			}
			want := idle
			if st.wantWrite {
				want = idle.Add(st.move)
			}
			if !got.IdleDeadline.Equal(want) {
				t.Fatalf("IdleDeadline: got %v, want %v", got.IdleDeadline, want)
			}
			idle = want
		})
	}
}

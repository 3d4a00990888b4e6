package redisthrottle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/testenv/redistest"
	"github.com/tetherhq/tether/throttle"
)

// A Rate on Redis (SESSION_CREATE_PER_IP with REDIS_URL): the addresses of
// one IPv6 /64 share one budget (issue 11 row 5), another /64 has its own,
// and with Redis down Allow fails with an error matching
// tether.ErrStoreUnavailable, so the caller refuses instead of allowing.
func TestRate(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	r, err := throttle.NewRate(New(rdb, "t:"), "create:", 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		ip      string
		refused bool
	}{
		{"2001:db8:1:2::1", false},
		{"2001:db8:1:2::ffff:1", false},
		{"2001:db8:1:2:abcd::7", true},
		{"2001:db8:1:3::1", false},
		{"192.0.2.1", false},
	} {
		wait, err := r.Allow(ctx, tc.ip)
		if err != nil || (wait > 0) != tc.refused || wait > time.Minute {
			t.Fatalf("Allow(%s): got %v, %v; want refused=%v within a minute", tc.ip, wait, err, tc.refused)
		}
	}
	srv.Kill()
	if _, err := r.Allow(ctx, "192.0.2.9"); !errors.Is(err, tether.ErrStoreUnavailable) {
		t.Fatalf("Allow with Redis down: got %v, want an error matching tether.ErrStoreUnavailable", err)
	}
}

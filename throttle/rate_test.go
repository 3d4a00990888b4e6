package throttle

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNewRateRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      Counter
		limit  int64
		window time.Duration
		want   string
	}{
		{"no counter", nil, 1, time.Minute, "needs a Counter"},
		{"zero limit", NewMemory(nil), 0, time.Minute, "rate limit 0 must be > 0"},
		{"negative limit", NewMemory(nil), -1, time.Minute, "rate limit -1 must be > 0"},
		{"zero window", NewMemory(nil), 1, 0, "rate window 0s must be > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRate(tc.c, "", tc.limit, tc.window)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRate: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// The budget is per network: an IPv4 address, an IPv6 /64 (issue 11 row
// 5, as row 2 for logins: keyed by full address, one /64 would be 2^64
// budgets), an IPv4-mapped address as its IPv4 address.
func TestRatePerNetwork(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ips    []string // the limit's worth of events, then one more from the last
		others []string // addresses with budgets of their own
	}{
		{"IPv4", []string{"192.0.2.1", "192.0.2.1", "192.0.2.1"}, []string{"192.0.2.2"}},
		{"IPv6 /64 shares one budget", []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"}, []string{"2001:db8:1:3::1"}},
		{"IPv6 zone ignored", []string{"fe80::1%eth0", "fe80::2%eth1", "fe80::3"}, []string{"fe80:0:0:1::1"}},
		{"IPv4-mapped IPv6 as IPv4", []string{"192.0.2.7", "::ffff:192.0.2.7", "::ffff:c000:207"}, []string{"::ffff:192.0.2.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := &clock{t: time.Unix(1e9, 0)}
			r, err := NewRate(NewMemory(ck.now), "create:", int64(len(tc.ips)), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, ip := range tc.ips {
				if wait, err := r.Allow(ctx, ip); wait != 0 || err != nil {
					t.Fatalf("Allow(%s) within the limit: got %v, %v; want 0, nil", ip, wait, err)
				}
			}
			ck.add(20 * time.Second)
			if wait, err := r.Allow(ctx, tc.ips[len(tc.ips)-1]); wait != 40*time.Second || err != nil {
				t.Fatalf("Allow beyond the limit: got %v, %v; want 40s (the window's rest), nil", wait, err)
			}
			for _, ip := range tc.others {
				if wait, err := r.Allow(ctx, ip); wait != 0 || err != nil {
					t.Fatalf("Allow(%s), another network: got %v, %v; want 0, nil", ip, wait, err)
				}
			}
			ck.add(40 * time.Second)
			if wait, err := r.Allow(ctx, tc.ips[0]); wait != 0 || err != nil {
				t.Fatalf("Allow after the window: got %v, %v; want 0, nil", wait, err)
			}
		})
	}
}

// A full Memory refuses new networks until a window ends, rather than
// forget one that runs; networks already counted go on.
func TestRateFullCounter(t *testing.T) {
	ck := &clock{t: time.Unix(1e9, 0)}
	r, err := NewRate(NewMemorySize(ck.now, 2), "", 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		if wait, err := r.Allow(ctx, ip); wait != 0 || err != nil {
			t.Fatalf("Allow(%s): got %v, %v; want 0, nil", ip, wait, err)
		}
	}
	ck.add(15 * time.Second)
	if wait, err := r.Allow(ctx, "192.0.2.3"); wait != 45*time.Second || err != nil {
		t.Fatalf("Allow of a new network when full: got %v, %v; want 45s, nil", wait, err)
	}
	if wait, err := r.Allow(ctx, "192.0.2.1"); wait != 0 || err != nil {
		t.Fatalf("Allow of a counted network when full: got %v, %v; want 0, nil", wait, err)
	}
}

package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rate allows at most a limit of events per client network and window:
// an IPv4 address, or an IPv6 /64, keyed as the login [Limiter] keys IPs
// (see the package doc), so one subscriber's /64 gets one budget, not 2^64.
// Windows are fixed: the first event of a key starts one, and the
// (limit+1)th within it is refused until it ends.
//
// The reference server allows SESSION_CREATE_PER_IP new anonymous sessions
// per client IP and minute with it, through tether.Config.AllowCreate: a
// client can no longer fill the session store with cookieless requests
// (issue 11 row 5). What it does not defend against: an attacker with many
// IPv4 addresses or /64s gets a budget for each.
//
// Give a Rate a [Memory] of its own (or its own key prefix in Redis): a
// flood from many networks fills a Memory, which then refuses new keys to
// everything that counts in it, logins included. A Rate is safe for
// concurrent use.
type Rate struct {
	c      Counter
	prefix string
	limit  int64
	window time.Duration
}

// NewRate returns a Rate of limit events per window, counted in c under
// keys that start with prefix (so that several uses can share a Redis
// counter). limit and window must be > 0.
func NewRate(c Counter, prefix string, limit int64, window time.Duration) (*Rate, error) {
	switch {
	case c == nil:
		return nil, errors.New("throttle: NewRate needs a Counter")
	case limit <= 0:
		return nil, fmt.Errorf("throttle: rate limit %d must be > 0 (leave the Rate out to allow everything)", limit)
	case window <= 0:
		return nil, fmt.Errorf("throttle: rate window %v must be > 0", window)
	}
	return &Rate{c: c, prefix: prefix, limit: limit, window: window}, nil
}

// Allow counts an event from the client address ip and reports 0 when it
// is within the limit, else how long until the key's window ends (at least
// a second): answer 429 with that Retry-After. A [Counter] that is full
// ([FullError]) refuses likewise, until it has room. Any other error is the
// Counter's (the Redis counter's match tether.ErrStoreUnavailable): refuse
// rather than allow uncounted.
func (r *Rate) Allow(ctx context.Context, ip string) (retryAfter time.Duration, err error) {
	n, err := r.c.Add(ctx, r.prefix+ipKey(ip), r.window)
	var full *FullError
	switch {
	case errors.As(err, &full):
		return max(full.RetryAfter, time.Second), nil
	case err != nil:
		return 0, err
	case n.N > r.limit:
		return max(n.Left, time.Second), nil
	}
	return 0, nil
}

// Package throttle slows down credential stuffing and password guessing:
// failed logins are counted per account and per client IP in fixed windows,
// and a key over its limit is refused until its window ends. Nothing is
// locked for good: every count expires with its window, so the most a
// stranger can do to a victim's account is delay its logins for one window,
// and success resets the account's count.
//
// Counters live in memory (one instance) or in Redis (shared by every
// instance, one script call per key). Both are safe for concurrent use.
package throttle

import (
	"context"
	"strings"
	"time"
)

// Counter counts events per key in fixed windows.
type Counter interface {
	// Count returns the key's count in its current window and how long the
	// window still runs (0 when the key has no count).
	Count(ctx context.Context, key string) (n int64, left time.Duration, err error)
	// Add adds one to the key's count, starting a window of length window if
	// none runs, and returns the new count.
	Add(ctx context.Context, key string, window time.Duration) (int64, error)
	// Reset forgets the key.
	Reset(ctx context.Context, key string) error
}

// Policy is the login throttling policy.
type Policy struct {
	// AccountLimit failures per Window on one account (user name, compared
	// case-insensitively, known or not) are allowed; the next attempt gets
	// 429. Default 10, so the 11th attempt within 15 minutes is refused.
	AccountLimit int64
	// IPLimit failures per Window from one client IP. Default 100.
	IPLimit int64
	// Window is the counting window. Default 15 minutes.
	Window time.Duration
}

// Limiter applies a Policy with a Counter.
type Limiter struct {
	c Counter
	p Policy
}

// New returns a Limiter; zero Policy fields take their defaults.
func New(c Counter, p Policy) *Limiter {
	if p.AccountLimit <= 0 {
		p.AccountLimit = 10
	}
	if p.IPLimit <= 0 {
		p.IPLimit = 100
	}
	if p.Window <= 0 {
		p.Window = 15 * time.Minute
	}
	return &Limiter{c: c, p: p}
}

func accountKey(username string) string { return "acct:" + strings.ToLower(username) }
func ipKey(ip string) string            { return "ip:" + ip }

// Check reports whether a login for username from ip may be attempted now;
// when not, retryAfter says for how long, and which is "account" or "ip".
func (l *Limiter) Check(ctx context.Context, username, ip string) (retryAfter time.Duration, which string, err error) {
	for _, k := range []struct {
		key, which string
		limit      int64
	}{{accountKey(username), "account", l.p.AccountLimit}, {ipKey(ip), "ip", l.p.IPLimit}} {
		n, left, err := l.c.Count(ctx, k.key)
		if err != nil {
			return 0, "", err
		}
		if n >= k.limit {
			if left < time.Second {
				left = time.Second
			}
			return left, k.which, nil
		}
	}
	return 0, "", nil
}

// Failed records a failed login.
func (l *Limiter) Failed(ctx context.Context, username, ip string) error {
	if _, err := l.c.Add(ctx, accountKey(username), l.p.Window); err != nil {
		return err
	}
	_, err := l.c.Add(ctx, ipKey(ip), l.p.Window)
	return err
}

// Succeeded forgets the account's failures.
func (l *Limiter) Succeeded(ctx context.Context, username string) error {
	return l.c.Reset(ctx, accountKey(username))
}

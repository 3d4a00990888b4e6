// Package throttle slows down credential stuffing and password guessing:
// failed logins are counted per account and per client IP in fixed windows,
// and a key over its limit is refused until its window ends. Nothing is
// locked for good: every count expires with its window, and success resets
// the count it was made against. A stranger can keep an account's own count
// at its limit, but a browser that logged in to the account before (a
// device cookie, see Attempt.Device) is counted apart, so the owner still
// logs in from it.
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

// Attempt is one login attempt.
type Attempt struct {
	Username string
	IP       string
	// Device is the verified device-cookie id of a browser that has logged
	// in to this account before, "" for none. Its failures are counted on
	// their own rather than on the account, so a stranger who uses up the
	// account's limit does not lock the owner's known browsers out (the
	// OWASP "device cookies" defence against lockout as denial of service).
	Device string
}

// accountKey is where the attempt's account-level failures count: the
// account, or the account on this device.
func (a Attempt) accountKey() (key, which string) {
	k := "acct:" + strings.ToLower(a.Username)
	if a.Device != "" {
		return k + "|dev:" + a.Device, "device"
	}
	return k, "account"
}

func ipKey(ip string) string { return "ip:" + ip }

// Check reports whether the attempt may be made now; when not, retryAfter
// says for how long, and which is "account", "device" or "ip".
func (l *Limiter) Check(ctx context.Context, a Attempt) (retryAfter time.Duration, which string, err error) {
	acct, acctWhich := a.accountKey()
	for _, k := range []struct {
		key, which string
		limit      int64
	}{{acct, acctWhich, l.p.AccountLimit}, {ipKey(a.IP), "ip", l.p.IPLimit}} {
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

// Failed records a failed attempt.
func (l *Limiter) Failed(ctx context.Context, a Attempt) error {
	acct, _ := a.accountKey()
	if _, err := l.c.Add(ctx, acct, l.p.Window); err != nil {
		return err
	}
	_, err := l.c.Add(ctx, ipKey(a.IP), l.p.Window)
	return err
}

// Succeeded forgets the failures counted where the attempt counted: the
// device's after a login from a known device (the account's own count,
// which strangers may be adding to, is left to expire), else the account's.
func (l *Limiter) Succeeded(ctx context.Context, a Attempt) error {
	acct, _ := a.accountKey()
	return l.c.Reset(ctx, acct)
}

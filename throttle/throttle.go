// Package throttle slows down credential stuffing and password guessing on
// a login form, without handing attackers a way to lock users out.
//
// # What it defends against
//
// Failed logins are counted per account (the user name as typed, compared
// case-insensitively, whether the account exists or not, so the answer
// reveals nothing) and per client IP, in fixed windows. A key over its limit
// is refused until its window ends. Defaults ([Policy]): 10 failures per
// account and 100 per IP in 15 minutes.
//
// Nothing is locked for good: every count expires with its window, and a
// successful login resets the count it was made against. A stranger can
// still keep an account's own count at its limit; device cookies
// ([DeviceCookies], the OWASP "device cookies" defence) answer that: a
// browser that logged in to the account before is counted apart
// ([Attempt.Device]), so the owner still logs in from it.
//
// # Use
//
// For each attempt, call [Limiter.Begin] before checking the password. It
// counts the attempt first, which is what keeps the limit under
// concurrency (a burst of parallel guesses cannot all pass a check made
// before any of them failed), and returns a [Ticket]: call
// [Ticket.Succeeded] when the password was right, [Ticket.Abandon] when it
// could not be checked (the user directory failed, the client left). A
// failure needs nothing more. When Begin refuses, answer 429 with a
// Retry-After of the duration it returns.
//
// The client IP must be one you can believe: behind a proxy, take it from
// the clientip package, not from X-Forwarded-For directly.
//
// # Counters
//
// [Memory] counts in process memory (one instance; bounded to 100,000 keys).
// The redisthrottle subpackage counts in Redis, shared by every instance,
// one script call per key. throttletest checks any other [Counter]. All are
// safe for concurrent use, and so are [Limiter] and [DeviceCookies].
package throttle

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Counter counts events per key in fixed windows. Implementations are safe
// for concurrent use, and Add is atomic: two concurrent Adds on one key
// return different counts.
type Counter interface {
	// Add adds one to the key's count, starting a window of length window if
	// none runs, and reports the new count, how long the window still runs
	// and which window it is.
	Add(ctx context.Context, key string, window time.Duration) (Count, error)
	// Undo takes back one Add made in the window identified by windowID. It
	// does nothing once that window has ended, whether or not a new one has
	// started: a late Undo must not erase a count of the next window.
	Undo(ctx context.Context, key, windowID string) error
	// Reset forgets the key.
	Reset(ctx context.Context, key string) error
}

// Count is what Counter.Add reports.
type Count struct {
	N      int64         // the key's count in its window, this Add included
	Left   time.Duration // how long the window still runs
	Window string        // identifies the window, for Undo
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

// Limiter applies a [Policy] with a [Counter]. It is safe for concurrent
// use; make one per application with [New].
type Limiter struct {
	c Counter
	p Policy
}

// New returns a Limiter counting with c (a [Memory], or a Redis counter
// from the redisthrottle subpackage); zero [Policy] fields take their
// defaults (10 per account, 100 per IP, 15 minutes).
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

// undoTimeout bounds the store calls that end an attempt. They run on a
// context detached from the request's: a client that gives up while its
// password is being checked must not leave its attempt counted as a failure
// (nor a success unrecorded).
const undoTimeout = 3 * time.Second

func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
}

// Ticket is an attempt that [Limiter.Begin] let through. End it with
// [Ticket.Succeeded] when the password was right, [Ticket.Abandon] when it
// could not be checked; a failure needs nothing more, it is counted
// already. Both run on a context detached from the request's (bounded to 3
// seconds), so a client that disconnects cannot leave its attempt half
// counted.
type Ticket struct {
	l                       *Limiter
	acctKey, acctWin, ipWin string
	ip                      string
}

// Begin counts the attempt before its password is checked, and reports
// whether it may go on: a Ticket when it may, else retryAfter says for how
// long it may not (at least a second) and which is "account", "device" or
// "ip", and the attempt is not counted. An error is the [Counter]'s (from
// the Redis counter it matches tether.ErrStoreUnavailable): refuse the
// login rather than let it through uncounted.
//
// Counting first is what makes the limit hold under concurrency: were the
// count read before the (slow) password check and raised only after it
// failed, a burst of parallel guesses would all read the same count below
// the limit and all be checked. With Begin, at most the limit's number of
// attempts per key get through in a window.
func (l *Limiter) Begin(ctx context.Context, a Attempt) (t *Ticket, retryAfter time.Duration, which string, err error) {
	acct, acctWhich := a.accountKey()
	keys := [2]struct {
		key, which string
		limit      int64
	}{{acct, acctWhich, l.p.AccountLimit}, {ipKey(a.IP), "ip", l.p.IPLimit}}
	var wins [2]string
	for i, k := range keys {
		c, err := l.c.Add(ctx, k.key, l.p.Window)
		if err == nil && c.N <= k.limit {
			wins[i] = c.Window
			continue
		}
		// Refused or failed: take back what this attempt counted, so that
		// refused attempts do not count.
		uctx, cancel := detached(ctx)
		var undo error
		if err == nil {
			undo = l.c.Undo(uctx, k.key, c.Window)
		}
		for j := range i {
			undo = errors.Join(undo, l.c.Undo(uctx, keys[j].key, wins[j]))
		}
		cancel()
		if err != nil {
			return nil, 0, "", errors.Join(err, undo)
		}
		if undo != nil {
			return nil, 0, "", undo
		}
		left := c.Left
		if left < time.Second {
			left = time.Second
		}
		return nil, left, k.which, nil
	}
	return &Ticket{l: l, acctKey: acct, acctWin: wins[0], ipWin: wins[1], ip: ipKey(a.IP)}, 0, "", nil
}

// Succeeded ends an attempt whose password was right. It forgets the
// failures counted where the attempt counted (the device's after a login
// from a known device: the account's own count, which strangers may be
// adding to, is left to expire; else the account's) and takes back the
// attempt's count on its IP, so users behind one address who log in
// successfully do not use up its limit.
func (t *Ticket) Succeeded(ctx context.Context) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	return errors.Join(t.l.c.Reset(ctx, t.acctKey), t.l.c.Undo(ctx, t.ip, t.ipWin))
}

// Abandon takes back an attempt whose password could not be checked (the
// user directory was unavailable, or the client went away first): it
// counts neither way.
func (t *Ticket) Abandon(ctx context.Context) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	return errors.Join(t.l.c.Undo(ctx, t.acctKey, t.acctWin), t.l.c.Undo(ctx, t.ip, t.ipWin))
}

// Package throttle slows down credential stuffing and password guessing on
// a login form, without handing attackers a way to lock users out.
//
// # What it defends against
//
// Failed logins are counted in fixed windows, each attempt on two budgets:
//
//   - Its account: the user name as typed, compared case-insensitively,
//     whether the account exists or not, so the answer reveals nothing.
//   - Its client IP, keyed by network rather than by address: an IPv4
//     address counts as itself, an IPv4-mapped IPv6 address
//     (::ffff:192.0.2.1) as that IPv4 address, and an IPv6 address as its
//     /64, the block one subscriber or host usually gets whole; keyed by full
//     address, one /64 would hand an attacker 2^64 fresh budgets. A zone
//     (fe80::1%eth0) is ignored. An IP that does not parse counts as the
//     string it is.
//
// A key over its limit is refused until its window ends. Defaults
// ([Policy]): 10 failures per account and 100 per IP in 15 minutes.
//
// Nothing is locked for good: every count expires with its window, and a
// successful login resets the count it was made against. A stranger can
// still keep an account's own count, or an IP's (a NAT, a campus, a mobile
// carrier), at its limit; device cookies ([DeviceCookies], the OWASP "device
// cookies" defence) answer both: an attempt from a browser that logged in to
// the account before ([Attempt.Device], verified) counts on a budget of its
// own, per device, instead of the account's and the IP's, and is refused by
// neither. A stolen device cookie is worth [Policy.DeviceLimit] guesses per
// window on one account, and a password change voids it.
//
// What it does not defend against: an attacker with many IPv4 addresses or
// many /64s (a botnet) still gets a budget per address or block; the account
// limit is what bounds the guesses on one account. Slow guessing under the
// limits is not detected.
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
// [Memory] counts in process memory (one instance), bounded to
// [DefaultMemoryKeys] keys. It never forgets a window that still runs to
// make room: when full, it reclaims windows that have ended, and if none
// has, a new key is refused with a [*FullError] and [Limiter.Begin] answers
// the attempt as throttled ("full") until the soonest window ends, while
// keys already counted go on counting. A flood of new keys can thus delay
// new clients' logins by up to one window, but can never reset a targeted
// account's count. The redisthrottle subpackage counts in Redis, shared by
// every instance, one script call per key (run that Redis with
// maxmemory-policy noeviction, or eviction would forget live windows).
// throttletest checks any other [Counter]. All are safe for concurrent use,
// and so are [Limiter], [Rate] and [DeviceCookies].
//
// # Rates
//
// [Rate] is the plain form: at most a limit of events per client network
// (keyed as above) and window, for requests that have no password to
// guess; the reference server limits new anonymous sessions per IP with it.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
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

// FullError is what a [Counter]'s Add returns when it has no room for a new
// key and will not forget a window that still runs to make some (as
// [Memory] does when full). [Limiter.Begin] answers such an attempt as
// throttled, with which "full" and the error's RetryAfter.
type FullError struct {
	// RetryAfter is how long until the soonest window ends and frees room.
	RetryAfter time.Duration
}

func (e *FullError) Error() string {
	return fmt.Sprintf("throttle: counter full, no room for a new key for %v: raise its size or wait", e.RetryAfter)
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
	// IPLimit failures per Window from one client IP (IPv4 address, or
	// IPv6 /64). Attempts from a known device ([Attempt.Device]) neither
	// count against it nor are refused by it. Default 100.
	IPLimit int64
	// DeviceLimit failures per Window from one known device on its
	// account ([Attempt.Device]), counted instead of the account's and the
	// IP's. Default AccountLimit.
	DeviceLimit int64
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
// defaults (10 per account, 100 per IP, the account's limit per device, 15
// minutes).
func New(c Counter, p Policy) *Limiter {
	if p.AccountLimit <= 0 {
		p.AccountLimit = 10
	}
	if p.DeviceLimit <= 0 {
		p.DeviceLimit = p.AccountLimit
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
	// IP is the client address (an IPv4 or IPv6 address, as
	// [netip.ParseAddr] reads it; see the package doc for how it is keyed).
	IP string
	// Device is the verified device-cookie id ([DeviceCookies.Verify]) of
	// a browser that has logged in to this account before, "" for none.
	// Its failures are counted on their own budget ([Policy.DeviceLimit])
	// rather than on the account's and the IP's, so a stranger who uses up
	// the account's or the IP's limit does not lock the owner's known
	// browsers out (the OWASP "device cookies" defence against lockout as
	// denial of service). Never pass an unverified id.
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

// ipKey is where the attempt's IP-level failures count: an IPv4 address
// (IPv4-mapped IPv6 included) as itself, an IPv6 address as its /64, without
// its zone; anything else as the string.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return "ip:" + a.String()
	}
	return "ip:" + netip.PrefixFrom(a, 64).Masked().String()
}

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
	l *Limiter
	// The keys the attempt counted on and their windows: the account's or
	// device's first, then the IP's (none for a device attempt).
	keys []counted
}

type counted struct{ key, window string }

type budget struct {
	key, which string
	limit      int64
}

// budgets are the keys an attempt counts on: the device's alone for an
// attempt from a known device, else the account's and the IP's.
func (l *Limiter) budgets(a Attempt) []budget {
	acct, which := a.accountKey()
	if which == "device" {
		return []budget{{acct, which, l.p.DeviceLimit}}
	}
	return []budget{{acct, which, l.p.AccountLimit}, {ipKey(a.IP), "ip", l.p.IPLimit}}
}

// Begin counts the attempt before its password is checked, and reports
// whether it may go on: a Ticket when it may, else retryAfter says for how
// long it may not (at least a second) and which is "account", "device",
// "ip" or "full" (the [Counter] had no room for a new key, [FullError]), and
// the attempt is not counted. An attempt with a Device counts on the
// device's budget alone: the IP's neither counts it nor refuses it. Any
// other error is the [Counter]'s (from the Redis counter it matches
// tether.ErrStoreUnavailable): refuse the login rather than let it through
// uncounted.
//
// Counting first is what makes the limit hold under concurrency: were the
// count read before the (slow) password check and raised only after it
// failed, a burst of parallel guesses would all read the same count below
// the limit and all be checked. With Begin, at most the limit's number of
// attempts per key get through in a window.
func (l *Limiter) Begin(ctx context.Context, a Attempt) (t *Ticket, retryAfter time.Duration, which string, err error) {
	bs := l.budgets(a)
	done := make([]counted, 0, len(bs))
	for _, b := range bs {
		c, err := l.c.Add(ctx, b.key, l.p.Window)
		if err == nil && c.N <= b.limit {
			done = append(done, counted{b.key, c.Window})
			continue
		}
		// Refused or failed: take back what this attempt counted, so that
		// refused attempts do not count.
		uctx, cancel := detached(ctx)
		var undo error
		if err == nil {
			undo = l.c.Undo(uctx, b.key, c.Window)
		}
		for _, d := range done {
			undo = errors.Join(undo, l.c.Undo(uctx, d.key, d.window))
		}
		cancel()
		var full *FullError
		switch {
		case errors.As(err, &full):
			if undo != nil {
				return nil, 0, "", undo
			}
			return nil, max(full.RetryAfter, time.Second), "full", nil
		case err != nil:
			return nil, 0, "", errors.Join(err, undo)
		case undo != nil:
			return nil, 0, "", undo
		}
		return nil, max(c.Left, time.Second), b.which, nil
	}
	return &Ticket{l: l, keys: done}, 0, "", nil
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
	err := t.l.c.Reset(ctx, t.keys[0].key)
	for _, k := range t.keys[1:] {
		err = errors.Join(err, t.l.c.Undo(ctx, k.key, k.window))
	}
	return err
}

// Abandon takes back an attempt whose password could not be checked (the
// user directory was unavailable, or the client went away first): it
// counts neither way.
func (t *Ticket) Abandon(ctx context.Context) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	var err error
	for _, k := range t.keys {
		err = errors.Join(err, t.l.c.Undo(ctx, k.key, k.window))
	}
	return err
}

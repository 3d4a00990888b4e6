// Package redisstore is a [tether.Store] in Redis, for any number of server
// instances sharing sessions. It takes a redis.UniversalClient, so a single
// node, Sentinel (failover) and Cluster all work, with TLS and ACL users as
// the client is configured (see ParseURL).
//
// Cost per request, in Redis commands: reading a session is one command
// (a script that returns the session and refreshes its idle deadline and
// expiry); a change is one more (a script that patches only the changed
// values, and only while the session exists); an atomic increment is that
// same patch. Creating a session is a SET NX. No request runs KEYS or SCAN.
// A session is one string (its layout is in record.go). Needs Redis 6.2 or
// later.
//
// Guarantees:
//
//   - No resurrection: updates apply only to a live session, inside one
//     script; a logout or regeneration that overlaps in-flight requests is
//     never undone by them.
//   - No lost updates: a patch carries only the changed values and the
//     script merges them into the stored ones, and increments are added
//     inside the script, exactly over the whole int64 range, so concurrent
//     requests keep each other's changes.
//   - Hashed keys: the Redis key is derived from SHA-256 of the token (the
//     tether.Store key), so a dump of Redis yields no usable cookie.
//
// Per-user index: every authenticated session is listed in a sorted set per
// user, prefix+"u:{"+userID+"}", scored by the session's absolute deadline.
// The braces are a Cluster hash tag, so everything kept per user lives in one
// slot. A session's own key is derived from its cookie alone and lives in
// another slot, so the two cannot change in one atomic step on a Cluster;
// instead the index entry is written before the session and removed after
// it, so at every moment the index lists a superset of the user's sessions:
// "revoke all" never misses one. Entries whose absolute deadline passed are
// removed whenever the user logs in again; entries whose session expired
// early (idle) are removed when the index is read, once they are older than
// a Create can take (an entry names its session's key and when it was
// written, so clean-up never drops the entry of a session being created).
// DeleteUser lists the index again after deleting, until no new entry
// appears, so a session created meanwhile by a rotation is deleted too.
// Nothing is ever scanned.
//
// A Store is safe for concurrent use.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// DefaultGrace is how long a session's key outlives its idle deadline, so
// that a late request can still be reported as an idle timeout rather than
// an unknown session. The deadline itself is enforced exactly.
const DefaultGrace = 5 * time.Minute

// Options tune a Store.
type Options struct {
	// Prefix starts every key. Default "tether:".
	Prefix string
	// Grace is how long expired sessions are kept for reporting. Default
	// DefaultGrace; a negative value keeps nothing past the deadline.
	Grace time.Duration
}

// Store is a [tether.Store] in Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	grace  int64 // ms
}

var (
	_ tether.Store     = (*Store)(nil)
	_ tether.Pinger    = (*Store)(nil)
	_ tether.UserIndex = (*Store)(nil)
)

// New returns a Store on rdb. It does not contact Redis; call Ping to check
// the connection and Preload to load the scripts ahead of the first request.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: New needs a client")
	}
	if opts.Prefix == "" {
		opts.Prefix = "tether:"
	}
	if strings.ContainsAny(opts.Prefix, "{} \r\n") {
		return nil, fmt.Errorf("redisstore: Options.Prefix %q must not contain braces or whitespace", opts.Prefix)
	}
	switch {
	case opts.Grace == 0:
		opts.Grace = DefaultGrace
	case opts.Grace < 0:
		opts.Grace = 0
	}
	return &Store{rdb: rdb, prefix: opts.Prefix, grace: opts.Grace.Milliseconds()}, nil
}

// Preload loads the store's scripts into Redis (every master of a Cluster).
func (s *Store) Preload(ctx context.Context) error {
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return s.fail("load scripts", err)
		}
	}
	return nil
}

// Ping implements [tether.Pinger].
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

func (s *Store) sessionKey(key string) string { return s.prefix + "s:" + key }
func (s *Store) indexKey(user string) string  { return s.prefix + "u:{" + user + "}" }

// fail wraps a Redis error. Everything but the script's own verdicts means
// Redis could not answer, which the middleware reports as 503.
func (s *Store) fail(op string, err error) error {
	return &unavailableError{op: op, err: err}
}

// unavailableError is a Redis call that got no usable answer. It matches
// [tether.ErrStoreUnavailable] (so the middleware answers 503) and the
// client's own error with errors.Is and errors.As, and reads as one layer,
// "redisstore: ping: dial tcp 127.0.0.1:6379: connect: connection refused",
// not as a chain of every wrapper's prefix.
type unavailableError struct {
	op  string // the store operation: ping, load, save…
	err error  // the client's error
}

func (e *unavailableError) Error() string { return "redisstore: " + e.op + ": " + e.err.Error() }

// Unwrap returns the category and the cause, in that order.
func (e *unavailableError) Unwrap() []error { return []error{tether.ErrStoreUnavailable, e.err} }

// Create implements [tether.Store]. For an authenticated session the user's
// index entry is written first (see the package doc). The session itself is
// one SET … NX PXAT.
func (s *Store) Create(ctx context.Context, key string, rec *tether.Record) error {
	val, idle, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if rec.UserID != "" {
		now := time.Now()
		err := indexScript.Run(ctx, s.rdb, []string{s.indexKey(rec.UserID)},
			memberFor(key, now), unixms.From(rec.AbsoluteDeadline), now.UnixMilli(), s.grace).Err()
		if err != nil {
			return s.fail("index", err)
		}
	}
	err = s.rdb.Do(ctx, "SET", s.sessionKey(key), val, "NX", "PXAT", idle+s.grace).Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return tether.ErrExists
	}
	return s.fail("create", err)
}

// isScriptError reports whether err is the script's own error reply code
// (Redis 7 prefixes such replies with "ERR ").
func isScriptError(err error, code string) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := strings.TrimPrefix(re.Error(), "ERR ")
	return msg == code || strings.HasPrefix(msg, code+" ")
}

// Load implements [tether.Store] in one command.
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	res, err := loadScript.Run(ctx, s.rdb, []string{s.sessionKey(key)}, unixms.From(now), unixms.From(idleDeadline), s.grace).Text()
	if errors.Is(err, redis.Nil) {
		return nil, tether.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("load", err)
	}
	return decodeRecord(res)
}

// Update implements [tether.Store] in one command.
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	args := make([]any, 0, 8+2*len(p.Set)+len(p.Delete)+2*len(p.Incr)+2*len(p.Expect))
	args = append(args, unixms.From(now), unixms.From(p.IdleDeadline), unixms.From(p.AuthenticatedAt), s.grace, len(p.Set))
	for k, v := range p.Set {
		args = append(args, k, string(v))
	}
	args = append(args, len(p.Delete))
	for _, k := range p.Delete {
		args = append(args, k)
	}
	args = append(args, len(p.Incr))
	for k, d := range p.Incr {
		args = append(args, k, d)
	}
	args = append(args, len(p.Expect))
	for k, v := range p.Expect {
		args = append(args, k, string(v))
	}
	res, err := updateScript.Run(ctx, s.rdb, []string{s.sessionKey(key)}, args...).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, tether.ErrNotFound
	case isScriptError(err, "NOTINT"):
		return nil, tether.ErrNotInteger
	case isScriptError(err, "CONFLICT"):
		return nil, tether.ErrConflict
	case err != nil:
		return nil, s.fail("update", err)
	}
	return decodeRecord(res)
}

// Delete implements [tether.Store]. The user's index entry, if any, is left
// for the next read of the index to remove (it then points at nothing).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.rdb.Unlink(ctx, s.sessionKey(key)).Err(); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

// Package redisstore is a [tether.Store] in Redis, for any number of server
// instances sharing sessions. It runs on either Go client, with the same
// scripts, encoding and rules (written once, behind an internal interface):
//
//   - New takes a go-redis redis.UniversalClient: every read asks Redis.
//   - NewRueidis and OpenRueidis take a rueidis client and serve reads from
//     its server-assisted client-side cache (RESP3 CLIENT TRACKING): Redis
//     pushes an invalidation when a cached session is written or deleted
//     anywhere. See "Cached reads" below.
//
// A single node, Sentinel (failover) and Cluster all work, with TLS and ACL
// users as the client is configured (see ParseURL).
//
// Cost per request, in Redis commands, without the cache: reading a session
// is one command, a plain GET while the Store knows its idle deadline to be
// recent enough (deadlines.go), else a script that returns the session and
// refreshes its idle deadline and expiry; a change is one more (a script
// that patches only the changed values, and only while the session
// exists); an atomic increment is that same patch. Creating a session is a SET NX. No request
// runs KEYS or SCAN. A session is one string (its layout is in record.go).
// Needs Redis 6.2 or later.
//
// Cached reads (rueidis, Options.CacheTTL not negative): a read of a live
// session costs no command while its cached copy is fresh enough; the
// first read on an instance, or after an invalidation, costs one (GET with
// PTTL in a MULTI); a read once the copy's idle deadline has fallen behind
// by the slack runs the load script, whose write moves the deadline in
// Redis and invalidates every copy. Changes cost what they cost without the
// cache. The rules, each tested against a real redis-server:
//
//   - Slack: a copy is served only while its idle deadline is behind the
//     wanted one by less than max(d/30, min(1 s, d/10)), d = idleDeadline-now
//     (tether.Store allows a Load to skip such a move), and never when the
//     wanted deadline is earlier. An expired copy is never served.
//   - Fresh reads: a Load whose context carries tether.WithFreshRead (the
//     Manager sets it for unsafe methods and Config.FreshRead routes) reads
//     Redis, as without the cache (a GET or the load script).
//   - Own writes: Redis may deliver the invalidation of a write after its
//     reply (another connection), so for CacheTTL after this Store wrote a
//     key (Create, Update, Delete, DeleteUser, a Load that moved the
//     deadline) the key is read from Redis, not from the cache; after
//     CacheTTL every copy fetched before the write has expired. DeleteAll
//     reads every key from Redis for CacheTTL.
//   - Connection loss: rueidis drops a connection's cache when it sees the
//     connection end; until then, a Store from OpenRueidis polls the
//     client's sockets for a peer close before serving a copy, and serves
//     no copy fetched before the last close (connwatch.go; Linux only,
//     elsewhere no copy is served). A Store from NewRueidis on a client it
//     did not dial keeps rueidis's own, narrower, guarantee.
//   - Half-open connections: a copy is served for at most Options.CacheTTL
//     (1 s by default) after its fetch, whatever arrives.
//   - Memory: OpenRueidis bounds each connection's cache to
//     Options.CacheBytes (64 MiB by default), evicting the least recently
//     used sessions. The recent-writes set is bounded too (past its bound
//     every read goes to Redis for CacheTTL).
//
// CacheStats (and CacheCounts, for metrics.Metrics.ClientCache) count hits,
// misses, fresh reads and invalidations.
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
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/unixms"
)

// Store is a [tether.Store] in Redis.
type Store struct {
	be     backend
	prefix string
	grace  int64      // ms
	cache  *readCache // nil: every Load asks Redis
	seen   *deadlines // the deadlines last read or written, per key
}

var (
	_ tether.Store     = (*Store)(nil)
	_ tether.Pinger    = (*Store)(nil)
	_ tether.UserIndex = (*Store)(nil)
)

// Preload loads the store's scripts into Redis (every master of a Cluster).
func (s *Store) Preload(ctx context.Context) error {
	if err := s.be.preload(ctx, scripts); err != nil {
		return s.fail("load scripts", err)
	}
	return nil
}

// Ping implements [tether.Pinger].
func (s *Store) Ping(ctx context.Context) error {
	if err := s.be.ping(ctx); err != nil {
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

// wrote tells the cache that this Store just wrote (or deleted) the
// session key sk: its next reads go to Redis (see readCache.wrote).
func (s *Store) wrote(sk string) {
	if s.cache != nil {
		s.cache.wrote(sk)
	}
}

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
		_, err := s.be.eval(ctx, indexScript, s.indexKey(rec.UserID), []string{memberFor(key, now),
			ms(unixms.From(rec.AbsoluteDeadline)), ms(now.UnixMilli()), ms(s.grace)})
		if err != nil {
			return s.fail("index", err)
		}
	}
	sk := s.sessionKey(key)
	ok, err := s.be.setNX(ctx, sk, val, idle+s.grace)
	s.wrote(sk)
	switch {
	case err != nil:
		return s.fail("create", err)
	case !ok:
		return tether.ErrExists
	}
	s.seen.seen(sk, rec.IdleDeadline, rec.AbsoluteDeadline)
	return nil
}

func ms(n int64) string { return strconv.FormatInt(n, 10) }

// minMove is the smallest forward move of the idle deadline (ms) that Load
// writes: min(1 s, d/10), d = idleDeadline-now, and with a cache the slack
// (cache.go), so that a fresh read does not write a deadline that a cached
// read would have left alone (each write invalidates every copy).
func (s *Store) minMove(now, idleDeadline time.Time) int64 {
	if s.cache != nil {
		return slack(now, idleDeadline).Milliseconds()
	}
	return scriptSkip(idleDeadline.Sub(now)).Milliseconds()
}

// scriptSkip is the load script's own smallest move without a cache,
// min(1 s, d/10) for d = idleDeadline-now; the cache's slack is never
// smaller.
func scriptSkip(d time.Duration) time.Duration { return min(time.Second, d/10) }

// Load implements [tether.Store] in one command, or none when the session
// is served from the client-side cache (see cache.go). The command is a
// plain GET when this Store last saw the session's idle deadline close
// enough to the wanted one that the load script would not move it (see
// deadlines.go), else the load script; a GET whose answer does not pass
// that rule is followed by the script.
func (s *Store) Load(ctx context.Context, key string, now, idleDeadline time.Time) (*tether.Record, error) {
	sk := s.sessionKey(key)
	if s.cache != nil {
		if rec, ok, err := s.loadCached(ctx, sk, now, idleDeadline); ok {
			return rec, err
		}
		s.cache.fresh.Add(1)
	}
	nowMS, want, move := unixms.From(now), unixms.From(idleDeadline), s.minMove(now, idleDeadline)
	if s.seen.getFirst(sk, nowMS, want, move) {
		if rec, ok, err := s.loadGet(ctx, sk, now, idleDeadline, move); ok {
			return rec, err
		}
	}
	res, err := s.be.eval(ctx, loadScript, sk, []string{ms(nowMS), ms(want), ms(s.grace), ms(move)})
	if err == errNil {
		return nil, tether.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("load", err)
	}
	rec, err := decodeRecord(res)
	if err != nil {
		return nil, err
	}
	s.seen.seen(sk, rec.IdleDeadline, rec.AbsoluteDeadline)
	if s.cache != nil && want > 0 && unixms.From(rec.IdleDeadline) == min(want, unixms.From(rec.AbsoluteDeadline)) {
		s.wrote(sk) // the script moved the deadline (or it was already there)
	}
	return rec, nil
}

// loadGet is Load by a plain GET; ok false means: run the load script (the
// copy is expired, corrupt, or its deadline must move).
func (s *Store) loadGet(ctx context.Context, sk string, now, idleDeadline time.Time, move int64) (rec *tether.Record, ok bool, err error) {
	v, err := s.be.get1(ctx, sk)
	switch {
	case err == errNil, err != nil && isWrongType(err):
		// Gone (the script's verdict on a key that is not a string too).
		// Its entry in s.seen stays until overwritten: a next Load is a GET
		// again, which says gone at a GET's cost.
		return nil, true, tether.ErrNotFound
	case err != nil:
		return nil, true, s.fail("load", err)
	}
	rec, derr := decodeRecord(v)
	if derr != nil || !servable(rec, now, idleDeadline, time.Duration(move)*time.Millisecond) {
		return nil, false, nil
	}
	s.seen.seen(sk, rec.IdleDeadline, rec.AbsoluteDeadline)
	return rec, true, nil
}

// Update implements [tether.Store] in one command.
func (s *Store) Update(ctx context.Context, key string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	args := make([]string, 0, 8+2*len(p.Set)+len(p.Delete)+2*len(p.Incr)+2*len(p.Expect))
	args = append(args, ms(unixms.From(now)), ms(unixms.From(p.IdleDeadline)), ms(unixms.From(p.AuthenticatedAt)), ms(s.grace), strconv.Itoa(len(p.Set)))
	for k, v := range p.Set {
		args = append(args, k, string(v))
	}
	args = append(args, strconv.Itoa(len(p.Delete)))
	args = append(args, p.Delete...)
	args = append(args, strconv.Itoa(len(p.Incr)))
	for k, d := range p.Incr {
		args = append(args, k, ms(d))
	}
	args = append(args, strconv.Itoa(len(p.Expect)))
	for k, v := range p.Expect {
		args = append(args, k, string(v))
	}
	sk := s.sessionKey(key)
	res, err := s.be.eval(ctx, updateScript, sk, args)
	s.wrote(sk)
	switch {
	case err == errNil:
		return nil, tether.ErrNotFound
	case isScriptError(err, "NOTINT"):
		return nil, tether.ErrNotInteger
	case isScriptError(err, "CONFLICT"):
		return nil, tether.ErrConflict
	case err != nil:
		return nil, s.fail("update", err)
	}
	rec, err := decodeRecord(res)
	if err == nil {
		s.seen.seen(sk, rec.IdleDeadline, rec.AbsoluteDeadline)
	}
	return rec, err
}

// Delete implements [tether.Store]. The user's index entry, if any, is left
// for the next read of the index to remove (it then points at nothing).
func (s *Store) Delete(ctx context.Context, key string) error {
	sk := s.sessionKey(key)
	_, err := s.be.unlink(ctx, []string{sk})
	s.wrote(sk)
	if err != nil {
		return s.fail("delete", err)
	}
	return nil
}

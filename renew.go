package tether

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// Periodic renewal with theft detection (issue 11, deliverable 3).
//
// A session's record and its store key (SHA-256 of the 32-byte token) stay
// the same for its whole life; what renews is a second secret that the
// version-2 cookie carries after the token (see [RenewSecretBytes]). The
// record keeps, under [ReservedKeyPrefix]+"renew", SHA-256 of the current
// secret and of the one it replaced, until when that one still works, and
// when the last renewal happened. Checking a request's secret against them
// costs nothing: they come with the record the request loads anyway.
//
// The first request after [Config.RenewInterval] that presents the current
// secret draws a new one and saves it with a compare-and-set
// ([Patch.Expect] on the state it loaded), merged into the Update it makes
// anyway, or as its one extra store call. Of a browser's parallel requests
// exactly one renews: within a process a claim on the session picks it
// without a store call (renewClaims), and across processes the
// compare-and-set does (the losers' Update returns [ErrConflict] and they
// send no cookie). The replaced secret stays valid for [Config.RenewGrace],
// for requests already in flight; those are served but never re-send the
// old cookie. A replaced secret presented after its grace, or a secret the
// record never had, means two parties hold the session's cookie (the
// refresh-token reuse detection of OAuth 2.0 Security BCP 4.14.2): the
// session is deleted, [EventTokenReuse] is emitted, and the request goes on
// as one without a session.
//
// Threat model: this detects a copied cookie (malware, a leaked log or
// backup, a shared machine) once both copies are used across a renewal,
// and bounds the life of a copy that is never used alongside the original
// to the renewal interval. It does not stop a thief who uses the cookie
// before the owner's next renewal and keeps the owner out (the owner's next
// request then ends the session for both), nor one on the device itself.
// A client that loses the response carrying a renewed cookie (a dropped
// connection) presents the old one after the grace and is signed out: the
// price of detection, as with refresh-token rotation.
//
// Migration: a version-1 cookie (the token alone) of a record without
// renewal state, as stored before renewal existed or while it is off, is
// accepted, and renewed on its first use when renewal is on; its "secret"
// is then the empty string, so the replaced version-1 cookie gets the same
// grace as any other and is reuse after it. Turning renewal off keeps
// checking sessions that have renewal state, and renews none.

// Renewal defaults applied by New to zero Config fields, and the value that
// turns renewal off.
const (
	DefaultRenewInterval = 15 * time.Minute
	DefaultRenewGrace    = 30 * time.Second
	// RenewOff, as [Config.RenewInterval], turns periodic renewal off.
	RenewOff time.Duration = -1
)

// keyRenew holds a session's renewRecord (see ReservedKeyPrefix).
const keyRenew = ReservedKeyPrefix + "renew"

// renewRecord is the stored renewal state: hashes (base64url SHA-256) of the
// current and the previous secret, and times in Unix milliseconds.
type renewRecord struct {
	Cur       string `json:"cur"`
	Prev      string `json:"prev,omitempty"`
	PrevUntil int64  `json:"prevUntil,omitempty"`
	RenewedAt int64  `json:"renewedAt"`
}

// hashLen is the length of an encoded secret hash.
var hashLen = b64.EncodedLen(sha256.Size)

// secretHash is what the record keeps of a renewal secret. A version-1
// cookie's secret is empty.
func secretHash(rs []byte) string {
	var buf [43]byte
	return string(appendSecretHash(buf[:0], rs))
}

// appendSecretHash appends secretHash(rs) to dst.
func appendSecretHash(dst, rs []byte) []byte {
	sum := sha256.Sum256(rs)
	return b64.AppendEncode(dst, sum[:])
}

// sameHash compares two encoded hashes in constant time.
func sameHash(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// renewView is a stored renewal state as read: cur and prev point into
// the stored bytes (or a decoded copy).
type renewView struct {
	cur, prev            []byte
	prevUntil, renewedAt int64
}

// parseRenew reads a stored renewal state. The hot path reads the form
// json.Marshal writes without encoding/json (no allocation: every request
// of a session reads it); a store that re-encodes JSON (reorders keys, adds
// spaces) gets the general decoder.
func parseRenew(raw []byte) (renewView, bool) {
	if v, ok := parseRenewExact(raw); ok {
		return v, true
	}
	var st renewRecord
	if json.Unmarshal(raw, &st) != nil || len(st.Cur) != hashLen || (st.Prev != "" && len(st.Prev) != hashLen) {
		return renewView{}, false
	}
	v := renewView{cur: []byte(st.Cur), prevUntil: st.PrevUntil, renewedAt: st.RenewedAt}
	if st.Prev != "" {
		v.prev = []byte(st.Prev)
	}
	return v, true
}

// parseRenewExact reads exactly the form json.Marshal writes for a
// renewRecord: {"cur":"…"[,"prev":"…","prevUntil":N],"renewedAt":N}.
func parseRenewExact(b []byte) (v renewView, ok bool) {
	str := func(p string) []byte {
		if len(b) < len(p)+hashLen+1 || string(b[:len(p)]) != p || b[len(p)+hashLen] != '"' {
			ok = false
			return nil
		}
		s := b[len(p) : len(p)+hashLen]
		for _, c := range s {
			// base64url only (found by FuzzParseRenew: a quote inside
			// was read as part of the hash, where JSON ends the string)
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				ok = false
				return nil
			}
		}
		b = b[len(p)+hashLen+1:]
		return s
	}
	num := func(p string) int64 {
		if len(b) < len(p) || string(b[:len(p)]) != p {
			ok = false
			return 0
		}
		b = b[len(p):]
		var n int64
		i := 0
		for ; i < len(b) && i < 18 && b[i] >= '0' && b[i] <= '9'; i++ {
			n = n*10 + int64(b[i]-'0')
		}
		if i == 0 || (i > 1 && b[0] == '0') {
			ok = false
		}
		b = b[i:]
		return n
	}
	sep := func(c byte) {
		if len(b) == 0 || b[0] != c {
			ok = false
			return
		}
		b = b[1:]
	}
	ok = true
	sep('{')
	v.cur = str(`"cur":"`)
	sep(',')
	if ok && len(b) > 7 && string(b[:7]) == `"prev":` {
		v.prev = str(`"prev":"`)
		sep(',')
		v.prevUntil = num(`"prevUntil":`)
		sep(',')
	}
	v.renewedAt = num(`"renewedAt":`)
	sep('}')
	return v, ok && len(b) == 0
}

// renewState is a request's part in renewal.
type renewState struct {
	secret []byte          // the renewal secret of the token in use (nil: a version-1 cookie)
	raw    json.RawMessage // the stored state as loaded (nil: none), for Patch.Expect
	due    bool            // this request renews at commit
	// quiet: the request's secret is, or is about to be, no longer the
	// current one (served in its grace, another request is renewing, or
	// did): its response must not re-send the cookie.
	quiet   bool
	renewed bool // the commit saved a new secret: send it
	next    []byte
}

// verdict is how a loaded record answers a request's renewal secret.
type verdict int

const (
	secretOK      verdict = iota // the current secret (or a version-1 session without state)
	secretInGrace                // the replaced secret, within its grace
	secretOld                    // the replaced secret after its grace, outside HTTP
	secretReused                 // theft: the replaced secret after its grace, or an unknown one
)

// checkRenewLocked takes the renewal state out of rec (a record just loaded
// under the cookie's key at now), judges the request's secret against it,
// and decides whether this request renews. The caller holds s.mu.
func (s *Session) checkRenewLocked(rec *Record, now time.Time) verdict {
	raw, has := rec.Values[keyRenew]
	delete(rec.Values, keyRenew)
	s.rn.raw = raw
	c := &s.m.cfg
	var st renewView
	if has {
		var ok bool
		if st, ok = parseRenew(raw); !ok {
			return secretReused // unreadable state: fail closed
		}
	}
	var buf [43]byte
	h := appendSecretHash(buf[:0], s.rn.secret)
	due := false
	switch {
	case !has && s.rn.secret == nil:
		due = true // a session from before renewal: renew it now
	case !has:
		return secretReused // a version-2 cookie always has state
	case sameHash(h, st.cur):
		due = now.Sub(time.UnixMilli(st.renewedAt)) >= c.RenewInterval
	case st.prev != nil && sameHash(h, st.prev):
		if now.Before(time.UnixMilli(st.prevUntil)) {
			s.rn.quiet = true
			return secretInGrace
		}
		if s.outsideLocked() {
			return secretOld
		}
		return secretReused
	default:
		return secretReused
	}
	// Only a response can hand the browser a new cookie: a Session from
	// Manager.Load never renews (the browser would keep the old secret and,
	// after the grace, be taken for a thief).
	if due && c.RenewInterval > 0 && !s.outsideLocked() {
		if s.m.claims.claim(s.candKey, raw, now, c.RenewGrace) {
			s.rn.due = true
		} else {
			s.rn.quiet = true // another request of this process is renewing
		}
	}
	return secretOK
}

// refuseLocked ends a request whose cookie failed the renewal check: a
// reused secret deletes the session and emits [EventTokenReuse]; a
// replaced secret presented by a Manager.Load caller after its grace is
// refused as a stale cookie (session_rejected, reason renewed_token),
// leaving the session to the browser that holds the new one. The request
// goes on without a session. The caller holds s.mu.
func (s *Session) refuseLocked(v verdict, key string, rec *Record) {
	s.stale = true
	if v == secretOld {
		s.m.emit(s.r, &Session{key: key, rec: rec}, EventSessionRejected, slog.String("reason", "renewed_token"))
		return
	}
	s.m.emit(s.r, &Session{key: key, rec: rec}, EventTokenReuse)
	ctx, cancel := s.m.cfg.storeCtx(s.r.Context())
	err := s.m.cfg.Store.Delete(ctx, key)
	cancel()
	if err != nil {
		s.loadErr = storeErr(err)
	}
}

// outsideLocked reports whether the session comes from Manager.Load.
func (s *Session) outsideLocked() bool {
	return s.r != nil && s.r.Context().Value(outsideKey{}) != nil
}

// renewPatchLocked returns a copy of the pending patch with the renewal
// merged in: a new secret's state, set only if the stored state is still
// the one loaded (compare-and-set), and, for a rolling cookie, its new
// expiry. The caller holds s.mu.
func (s *Session) renewPatchLocked(now time.Time) *Patch {
	c := &s.m.cfg
	s.rn.next = randomBytes(RenewSecretBytes)
	st := renewRecord{
		Cur:       secretHash(s.rn.next),
		Prev:      secretHash(s.rn.secret),
		PrevUntil: now.Add(c.RenewGrace).UnixMilli(),
		RenewedAt: now.UnixMilli(),
	}
	raw, _ := json.Marshal(st) // cannot fail: strings and integers
	p := s.patch
	p.Set = make(map[string]json.RawMessage, len(s.patch.Set)+2)
	for k, v := range s.patch.Set {
		p.Set[k] = v
	}
	p.Set[keyRenew] = raw
	p.Expect = map[string]json.RawMessage{keyRenew: s.rn.raw}
	if s.cookieModeLocked() == CookieRolling {
		s.setCookieExpiryLocked(&p)
	}
	return &p
}

// renewedLocked records a successful renewal. The caller holds s.mu.
func (s *Session) renewedLocked() {
	s.rn.secret, s.rn.next = s.rn.next, nil
	s.rn.due, s.rn.renewed = false, true
}

// lostRenewalLocked records that another request renewed first: this one
// keeps its (now replaced) secret and sends no cookie. The caller holds s.mu.
func (s *Session) lostRenewalLocked() {
	s.rn.due, s.rn.next, s.rn.quiet = false, nil, true
	s.ck.expiryWritten = false
}

// noteStoredLocked takes the renewal state out of rec, a record an Update
// of this request returned, and notes whether the request's secret is
// still the current one: if not (a renewal by another request), its
// response must not re-send the old cookie. The caller holds s.mu.
func (s *Session) noteStoredLocked(rec *Record) {
	raw, has := rec.Values[keyRenew]
	if !has {
		return
	}
	delete(rec.Values, keyRenew)
	var buf [43]byte
	if st, ok := parseRenew(raw); !ok || !sameHash(appendSecretHash(buf[:0], s.rn.secret), st.cur) {
		s.rn.quiet = true
	}
}

// newSecretLocked gives a new token its renewal state in rec (nil secret
// and no state when renewal is off) and returns a function that removes it
// again from rec, which is the session's working record. The caller holds
// s.mu.
func (s *Session) newSecretLocked(rec *Record, now time.Time) (undo func()) {
	delete(rec.Values, keyRenew) // the replaced token's, carried over
	s.rn = renewState{}
	if s.m.cfg.RenewInterval <= 0 {
		return func() {}
	}
	s.rn.secret = randomBytes(RenewSecretBytes)
	raw, _ := json.Marshal(renewRecord{Cur: secretHash(s.rn.secret), RenewedAt: now.UnixMilli()})
	rec.Values[keyRenew] = raw
	return func() { delete(rec.Values, keyRenew) }
}

// renewClaims picks, within one process, the one request of a burst that
// renews a session: the first to claim a session's loaded state holds it
// for the grace period, and the others (which loaded the same state) leave
// the renewal to it without a store call. Entries are small and expire with
// the grace; the map is swept when it has doubled since the last sweep.
type renewClaims struct {
	mu        sync.Mutex
	m         map[string]renewClaim
	nextSweep int
}

type renewClaim struct {
	state string // the stored state the claim replaces
	until time.Time
}

// claim reports whether the caller may renew the session under key from
// state (as loaded at now).
func (c *renewClaims) claim(key string, state json.RawMessage, now time.Time, grace time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[key]; ok && cl.state == string(state) && now.Before(cl.until) {
		return false
	}
	if c.m == nil {
		c.m = map[string]renewClaim{}
	}
	if len(c.m) >= c.nextSweep {
		for k, cl := range c.m {
			if !now.Before(cl.until) {
				delete(c.m, k)
			}
		}
		c.nextSweep = 2*len(c.m) + 64
	}
	c.m[key] = renewClaim{state: string(state), until: now.Add(grace)}
	return true
}

// release gives up a claim that claim granted for key and state, so that
// the next request renews (see Session.SkipRenewal).
func (c *renewClaims) release(key string, state json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[key]; ok && cl.state == string(state) {
		delete(c.m, key)
	}
}

package tether

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Session is the per-request view of a session. Reads and writes of values
// happen in memory and are saved once, just before the response starts, as a
// patch of the changed keys (so concurrent requests that change different
// keys keep both changes). Incr is the exception: the store applies it at
// once and atomically, so concurrent increments are never lost.
//
// A Session belongs to one request. Its methods are safe to call from several
// goroutines of that request, but not after the handler has returned.
//
// Changes are possible until the session is saved, when the response starts
// (see [Manager.Handler]); after that the methods that would change it
// return [ErrResponseStarted], or record it for [Session.Err] when they
// have no error result, and change nothing.
type Session struct {
	m *Manager
	r *http.Request

	mu        sync.Mutex
	cand      []byte  // verified token from the cookie, not yet loaded
	candKey   string  // storeKey(cand)
	candValue string  // the cookie's value, if signed by the current secret
	loaded    bool    // loadLocked has run
	loadErr   error   // the store failed while loading
	token     []byte  // current token; nil for a session not yet stored
	key       string  // storeKey(token)
	rec       *Record // working copy: stored record plus pending changes; nil if none
	exists    bool    // a record is stored under key
	hadCookie bool    // the request carried a session cookie
	stale     bool    // the cookie named no live session: clear it
	patch     Patch   // changes not yet saved
	dirty     bool
	regen     bool
	login     *login
	destroyed bool
	logout    bool     // destroyed by Logout rather than Destroy
	reauth    bool     // Reauthenticate: refresh AuthenticatedAt on the new token
	drop      dropKind // values the next regeneration drops (loginscope.go)
	ended     bool     // the store no longer has the session
	committed bool
	misuse    error         // a change without an error result came too late: for Err
	ck        cookieState   // what the Set-Cookie decision needs (cookie.go)
	rn        renewState    // the renewal secret and its check (renew.go)
	ctx       sessionCtx    // the request's context with this session attached
	cookieBuf cookiePayload // what cand and rn.secret were decoded into
}

// ensure returns the working record, creating an empty one for a new session.
// The caller holds s.mu.
func (s *Session) ensure() *Record {
	if s.rec == nil {
		s.rec = &Record{Values: map[string]json.RawMessage{}}
	}
	return s.rec
}

// Err loads the session if it is not loaded yet and reports why it could
// not be: an error wrapping [ErrStoreUnavailable] during a store outage, nil
// otherwise (a request without a session is not an error). While it
// reports a load failure the session reads as empty, and the middleware
// answers the request with the error (503 by default) whatever the handler
// writes; a handler that must not act on an empty session (a CSRF check, an
// authorization decision) checks Err first.
//
// Once the response has started, Err also reports [ErrResponseStarted] if
// [Session.Remove], [Session.Destroy] or [Session.Logout] was called too
// late to take effect (they have no error result of their own).
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.loadErr != nil {
		return s.loadErr
	}
	return s.misuse
}

// changeLocked reports whether the session may still change: not once it
// is saved. The caller holds s.mu.
func (s *Session) changeLocked() error {
	if s.committed {
		return ErrResponseStarted
	}
	return nil
}

// lateLocked records a change without an error result that came after the
// session was saved, for Err, and reports whether it did. The caller holds
// s.mu.
func (s *Session) lateLocked() bool {
	if !s.committed {
		return false
	}
	if s.misuse == nil {
		s.misuse = ErrResponseStarted
	}
	return true
}

// IsNew reports whether the request arrived without a live session.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	return !s.exists
}

// UserID returns the authenticated user, or "" for an anonymous session.
// After Login it returns the new user at once.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.destroyed {
		return ""
	}
	if s.login != nil {
		return s.login.userID
	}
	if s.rec == nil {
		return ""
	}
	return s.rec.UserID
}

// AuthenticatedAt returns the time of the last login or re-authentication,
// zero for an anonymous session.
func (s *Session) AuthenticatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return time.Time{}
	}
	return s.rec.AuthenticatedAt
}

// Deadlines returns the session's idle and absolute deadlines as the server
// enforces them (zero for a session that is not stored yet).
func (s *Session) Deadlines() (idle, absolute time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil {
		return time.Time{}, time.Time{}
	}
	return s.rec.IdleDeadline, s.rec.AbsoluteDeadline
}

// PublicID returns the session's public ID ([Manager.PublicID] of its
// store key), "" for a session not stored yet. It is safe to log, to show to
// the user and to put in a URL; it matches [SessionInfo.ID] in a listing of
// the user's sessions, so "this device" is the entry with the same ID.
func (s *Session) PublicID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.key == "" {
		return ""
	}
	return s.m.PublicID(s.key)
}

// Get decodes the value stored under key into dst. It reports false, and
// leaves dst alone, when there is no such key.
func (s *Session) Get(key string, dst any) (bool, error) {
	s.mu.Lock()
	s.loadLocked()
	var raw json.RawMessage
	if s.rec != nil && !s.destroyed && !reserved(key) {
		raw = s.rec.Values[key]
	}
	s.mu.Unlock()
	if raw == nil {
		return false, nil
	}
	return true, json.Unmarshal(raw, dst)
}

// Keys returns the keys of the session's values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return nil
	}
	keys := make([]string, 0, len(s.rec.Values))
	for k := range s.rec.Values {
		if !reserved(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Set stores v (JSON-encoded) under key. The change is saved before the
// response starts; a new session is created then, and its cookie set.
//
// It fails, changing nothing, with [ErrResponseStarted] once the response
// has started, with the load error ([Session.Err]) during a store outage,
// with [ErrSessionDestroyed] after Destroy or Logout, with
// [ErrValueTooLarge] beyond [Config.MaxValueBytes], and with an error
// naming key when v cannot be encoded as JSON (a channel, a function, a
// cyclic value: a programming error, 500 by [StatusOf]).
func (s *Session) Set(key string, v any) error {
	if reserved(key) {
		return fmt.Errorf("%w: %q", ErrReservedKey, key)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("tether: Set %q: the value cannot be encoded as JSON: %w", key, err)
	}
	return s.store(key, raw)
}

// store sets key to raw (valid JSON, owned by the session) for Set and
// SetBindingValue: the session must be changeable, loaded and not
// destroyed.
func (s *Session) store(key string, raw json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.changeLocked(); err != nil {
		return err
	}
	s.loadLocked()
	switch {
	case s.loadErr != nil:
		return s.loadErr
	case s.destroyed:
		return ErrSessionDestroyed
	}
	return s.setLocked(key, raw)
}

// setLocked changes key in memory and in the pending patch; once the session
// is saved it returns [ErrResponseStarted] instead, for every caller.
func (s *Session) setLocked(key string, raw json.RawMessage) error {
	if err := s.changeLocked(); err != nil {
		return err
	}
	if err := s.putLocked(key, raw); err != nil {
		return err
	}
	if s.patch.Set == nil {
		s.patch.Set = map[string]json.RawMessage{}
	}
	s.patch.Set[key] = raw
	s.patch.Delete = without(s.patch.Delete, key)
	delete(s.patch.Incr, key)
	s.dirty = true
	return nil
}

// putLocked changes the in-memory value only, within MaxValueBytes.
func (s *Session) putLocked(key string, raw json.RawMessage) error {
	rec := s.ensure()
	old, had := rec.Values[key]
	rec.Values[key] = raw
	if size(rec.Values) > s.m.cfg.MaxValueBytes {
		if had {
			rec.Values[key] = old
		} else {
			delete(rec.Values, key)
		}
		return ErrValueTooLarge
	}
	return nil
}

// Remove deletes key from the session. The removal is saved before the
// response starts; once it has started, Remove changes nothing and
// [Session.Err] reports [ErrResponseStarted].
func (s *Session) Remove(key string) {
	if reserved(key) {
		return // tether's own bookkeeping: not the application's to remove
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lateLocked() {
		return
	}
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return
	}
	s.removeLocked(key)
}

// removeLocked deletes key from the loaded record and records the deletion
// in the patch (a key that is neither stored nor pending is left alone),
// for Remove and RemoveBindingValues.
func (s *Session) removeLocked(key string) {
	if _, ok := s.rec.Values[key]; !ok && s.patch.Set[key] == nil && s.patch.Incr[key] == 0 {
		return
	}
	delete(s.rec.Values, key)
	delete(s.patch.Set, key)
	delete(s.patch.Incr, key)
	s.patch.Delete = append(without(s.patch.Delete, key), key)
	s.dirty = true
}

func size(v map[string]json.RawMessage) int {
	n := 0
	for k, raw := range v {
		n += len(k) + len(raw)
	}
	return n
}

func without(list []string, key string) []string {
	out := list[:0]
	for _, k := range list {
		if k != key {
			out = append(out, k)
		}
	}
	return out
}

// reserved reports whether key is one of tether's own (see
// [ReservedKeyPrefix]): the data API neither shows nor changes those.
func reserved(key string) bool { return strings.HasPrefix(key, ReservedKeyPrefix) }

package tether

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// What package dbsc (Device Bound Session Credentials) needs from the root
// package, and nothing more: its own corner of the reserved values, keys
// derived from the secrets, the cookie's attributes and the clock.

// DeviceBindingKeyPrefix starts the reserved session value keys that keep a
// session's device binding (package dbsc): the registered public key, the
// DBSC session identifier, the outstanding challenges, whether registration
// was offered. Like every key under [ReservedKeyPrefix] they are hidden
// from [Session.Get], [Session.Keys] and [Session.Set]; only the
// [Session.BindingValue] family reads and writes them, and only them.
//
// They survive [Session.Regenerate], [Session.Reauthenticate],
// [Session.ChangeRole] and renewal (the browser that holds the key is the
// same), and every [Session.Login] drops them (a login starts a new,
// unbound session, which is offered registration afresh).
const DeviceBindingKeyPrefix = ReservedKeyPrefix + "dbsc."

func bindingKey(key string) bool {
	return strings.HasPrefix(key, DeviceBindingKeyPrefix) && len(key) > len(DeviceBindingKeyPrefix)
}

func errNotBindingKey(key string) error {
	return fmt.Errorf("%w: %q is not under %q", ErrReservedKey, key, DeviceBindingKeyPrefix)
}

// BindingValue returns the raw JSON stored under key, a key under
// [DeviceBindingKeyPrefix], or nil when there is none (or the session could
// not be loaded: check [Session.Err]). It reads the record the request
// loaded anyway: no store call beyond that load.
func (s *Session) BindingValue(key string) json.RawMessage {
	if !bindingKey(key) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return nil
	}
	return s.rec.Values[key]
}

// BindingKeys returns the keys under [DeviceBindingKeyPrefix] that start
// with prefix (itself under DeviceBindingKeyPrefix), sorted.
func (s *Session) BindingKeys(prefix string) []string {
	if !strings.HasPrefix(prefix, DeviceBindingKeyPrefix) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return nil
	}
	var keys []string
	for k := range s.rec.Values {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// SetBindingValue stores raw (valid JSON) under key, a key under
// [DeviceBindingKeyPrefix], with the same rules as [Session.Set]: saved as
// a patch of that key alone before the response starts.
func (s *Session) SetBindingValue(key string, raw json.RawMessage) error {
	if !bindingKey(key) {
		return errNotBindingKey(key)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("tether: SetBindingValue %q: not valid JSON", key)
	}
	return s.store(key, append(json.RawMessage(nil), raw...))
}

// RemoveBindingValues deletes keys (each under [DeviceBindingKeyPrefix])
// with the same rules as [Session.Remove]: a patch deleting those keys
// alone, saved before the response starts.
func (s *Session) RemoveBindingValues(keys ...string) error {
	for _, k := range keys {
		if !bindingKey(k) {
			return errNotBindingKey(k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.changeLocked(); err != nil {
		return err
	}
	s.loadLocked()
	if s.rec == nil || s.destroyed {
		return nil
	}
	for _, key := range keys {
		s.removeLocked(key)
	}
	return nil
}

// IncrBindingValue is [Session.Incr] for a key under
// [DeviceBindingKeyPrefix]: the store applies it at once and atomically, so
// of concurrent increments none is lost and each caller sees its own sum
// (package dbsc takes a challenge this way).
func (s *Session) IncrBindingValue(ctx context.Context, key string, delta int64) (int64, error) {
	if !bindingKey(key) {
		return 0, errNotBindingKey(key)
	}
	return s.incr(ctx, key, delta)
}

// HasCookie reports whether the request carried a session cookie of this
// Manager (verified or not). Package dbsc uses it to tell a request that
// presents the session from one that has none.
func (s *Session) HasCookie() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hadCookie
}

// SkipRenewal keeps this request from renewing the session's cookie
// ([Config.RenewInterval]): a request that is about to be refused (package
// dbsc's enforcement: the session cookie without its device-bound cookie)
// must not hand whoever sent it a fresh session cookie. It changes nothing
// else; the next request renews as usual. Call it before the response
// starts.
func (s *Session) SkipRenewal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.rn.due {
		s.rn.due, s.rn.quiet = false, true
		s.m.claims.release(s.candKey, s.rn.raw)
	}
}

// DeriveKeys returns one 32-byte key per entry of [Config.Secrets], in the
// same order (the first signs, all verify: rotation works as for session
// cookies): HMAC-SHA256(secret, label). Each label gives unrelated keys, so
// a key derived for one purpose reveals nothing about the secrets or about
// keys for other purposes. label must be non-empty and name its purpose,
// for example "tether/dbsc/cookie/v1".
func (m *Manager) DeriveKeys(label string) [][]byte {
	if label == "" {
		panic("tether: DeriveKeys needs a label naming the purpose")
	}
	keys := make([][]byte, len(m.cfg.Secrets))
	for i, sec := range m.cfg.Secrets {
		keys[i] = deriveKey(sec, label)
	}
	return keys
}

// CookieAttributes are the session cookie's attributes, for a companion
// cookie that must follow them (package dbsc's bound cookie).
type CookieAttributes struct {
	Name     string
	Path     string
	Domain   string
	Secure   bool
	SameSite http.SameSite // Lax, Strict or None: never the default mode
}

// CookieAttributes returns the session cookie's attributes as configured.
func (m *Manager) CookieAttributes() CookieAttributes {
	ss := m.cfg.SameSite
	if ss != http.SameSiteStrictMode && ss != http.SameSiteNoneMode {
		ss = http.SameSiteLaxMode
	}
	return CookieAttributes{Name: m.cfg.CookieName, Path: m.cfg.Path, Domain: m.cfg.Domain,
		Secure: m.cfg.Secure, SameSite: ss}
}

// Now returns the Manager's current time ([Config.Now]).
func (m *Manager) Now() time.Time { return m.cfg.Now() }

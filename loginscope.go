package tether

import (
	"encoding/json"
	"strings"
)

// LoginScopedKeyPrefix starts the session value keys that belong to one
// authentication of the session's holder rather than to the session: every
// [Session.Login], [Session.Reauthenticate] and [Session.ChangeRole] drops
// them, so the value must be issued again afterwards. Package csrf keeps its
// token here (csrf.SessionKey is "tether.login.csrfToken"), so a token known
// before the login (planted with the session cookie by an attacker, or read
// from an anonymous page) is worthless after it.
//
// An application may keep its own values under this prefix to get the same
// treatment (a step-up confirmation, a one-time nonce). Unlike
// [ReservedKeyPrefix], the keys are ordinary values: [Session.Set],
// [Session.Get] and [Session.Keys] handle them as any other.
//
// A Login of a different user than the session's (or of an anonymous
// session) drops every value, not only these; see [Session.Login].
const LoginScopedKeyPrefix = "tether.login."

// dropKind says which values an authentication change drops.
type dropKind uint8

const (
	dropNone        dropKind = iota
	dropLoginScoped          // keys under LoginScopedKeyPrefix
	dropLogin                // those, and the device binding (DeviceBindingKeyPrefix)
	dropAll                  // every value but tether's bookkeeping, and the device binding
)

// dropped reports whether kind drops key.
func (kind dropKind) dropped(key string) bool {
	switch kind {
	case dropAll:
		return !reserved(key) || strings.HasPrefix(key, DeviceBindingKeyPrefix)
	case dropLogin:
		return strings.HasPrefix(key, LoginScopedKeyPrefix) || strings.HasPrefix(key, DeviceBindingKeyPrefix)
	case dropLoginScoped:
		return strings.HasPrefix(key, LoginScopedKeyPrefix)
	}
	return false
}

// dropLocked drops the values kind names from the working record and from
// the pending patch, and remembers kind so that commitRegenerate drops them
// from the stored record too (values another request stored meanwhile
// included). Values set after this call, in the same request, are kept.
// The caller holds s.mu.
func (s *Session) dropLocked(kind dropKind) {
	if kind > s.drop {
		s.drop = kind
	}
	if s.rec != nil {
		for k := range s.rec.Values {
			if kind.dropped(k) {
				delete(s.rec.Values, k)
			}
		}
	}
	for k := range s.patch.Set {
		if kind.dropped(k) {
			delete(s.patch.Set, k)
		}
	}
	for k := range s.patch.Incr {
		if kind.dropped(k) {
			delete(s.patch.Incr, k)
		}
	}
	del := s.patch.Delete[:0]
	for _, k := range s.patch.Delete {
		if !kind.dropped(k) {
			del = append(del, k)
		}
	}
	s.patch.Delete = del
}

// dropStored applies s.drop to values read from the store, before the
// request's own (later) changes are applied to them.
func (s *Session) dropStored(values map[string]json.RawMessage) {
	for k := range values {
		if s.drop.dropped(k) {
			delete(values, k)
		}
	}
}

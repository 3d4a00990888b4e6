package tether

import (
	"encoding/json"
	"fmt"
	"time"
)

// CookieMode chooses the lifetime of the session cookie in the browser and
// when a response re-sends it. The server enforces the session's idle and
// absolute deadlines from the store in every mode; the mode only decides how
// long the browser keeps the cookie. Set it with [Config.CookieMode]; one
// session can move between [CookieSession] and [CookiePersistent] with
// [Session.SetPersistent] ("remember me").
type CookieMode int

const (
	// CookieRolling (the default) gives the cookie a Max-Age of what is left
	// of the session's idle deadline (capped at its absolute deadline). A
	// response re-sends it when the token changed, or when the stored idle
	// deadline has moved by at least [RollingResendStep] since the cookie
	// the browser holds was sent; so a busy session does not carry a
	// Set-Cookie on every response, and the browser's copy never expires
	// more than RollingResendStep before the server's.
	CookieRolling CookieMode = iota
	// CookieSession sends no Max-Age or Expires: the browser drops the
	// cookie when it closes. Set-Cookie is sent only when the token changes
	// (a new session, a login, a rotation), and the expiring cookie on
	// [Session.Destroy] and [Session.Logout].
	CookieSession
	// CookiePersistent gives the cookie a Max-Age of what is left of the
	// session's absolute lifetime, so it survives a browser restart ("remember
	// me"). Set-Cookie is sent only when the token changes. A persistent
	// cookie outlives the idle deadline in the browser; the server still
	// ends the session after IdleTimeout (AnonymousIdleTimeout before a
	// login) without requests.
	CookiePersistent
)

// String returns the mode's name as [ParseCookieMode] reads it: "rolling",
// "session" or "persistent".
func (m CookieMode) String() string {
	switch m {
	case CookieRolling:
		return "rolling"
	case CookieSession:
		return "session"
	case CookiePersistent:
		return "persistent"
	}
	return fmt.Sprintf("CookieMode(%d)", int(m))
}

// ParseCookieMode returns the mode named "rolling", "session" or
// "persistent" (the names of SESSION_COOKIE_MODE in the reference server).
func ParseCookieMode(name string) (CookieMode, error) {
	for _, m := range []CookieMode{CookieRolling, CookieSession, CookiePersistent} {
		if name == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("cookie mode %q is not one of rolling, session or persistent", name)
}

// RollingResendStep is how far the stored idle deadline must move before a
// [CookieRolling] response re-sends an unchanged token.
const RollingResendStep = time.Minute

// ReservedKeyPrefix starts the session value keys that tether keeps for
// itself, alongside the application's values in [Record.Values]. An
// application must not use keys with this prefix.
//
//   - "_tether.persistent": the [Session.SetPersistent] choice, a JSON
//     boolean; absent when the session follows [Config.CookieMode].
//   - "_tether.cookie": for [CookieRolling], the Unix second at which the
//     cookie the browser holds expires, a JSON integer.
//   - "_tether.renew": the renewal state (see [Config.RenewInterval]):
//     SHA-256 of the current and the replaced renewal secret, when the
//     replaced one stops working, and when the last renewal happened.
//   - "_tether.dbsc.…": the device binding of package dbsc (see
//     [DeviceBindingKeyPrefix]), read and written only through
//     [Session.BindingValue] and its siblings.
//
// [Session.Keys], [Session.Get] and the getters do not show these keys, and
// [Session.Set] and [Session.Incr] refuse them with [ErrReservedKey]. (Flash
// messages are not bookkeeping: they live under "tether.flash.", see
// [Session.AddFlash].)
const ReservedKeyPrefix = "_tether."

const (
	keyPersistent   = ReservedKeyPrefix + "persistent"
	keyCookieExpiry = ReservedKeyPrefix + "cookie"
)

// SetPersistent chooses this session's cookie lifetime whatever
// [Config.CookieMode] says: true makes it [CookiePersistent] (a "remember
// me" box ticked at login), false makes it [CookieSession] (the cookie is
// gone when the browser closes). The choice is stored with the session, so
// later responses keep it, and survives token rotations. The response that
// makes the change re-sends the cookie with its new lifetime.
//
// Call it after [Session.Login] in the same request. Like [Session.Set] it
// creates a session that does not exist yet; it returns
// [ErrSessionDestroyed] after Destroy or Logout, and the load error of a
// session that could not be loaded.
func (s *Session) SetPersistent(persistent bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	if s.loadErr != nil {
		return s.loadErr
	}
	if s.destroyed {
		return ErrSessionDestroyed
	}
	before := s.cookieModeLocked()
	raw, _ := json.Marshal(persistent)
	if err := s.setLocked(keyPersistent, raw); err != nil {
		return err
	}
	if s.cookieModeLocked() != before {
		s.ck.switched = true
	}
	return nil
}

// CookieMode returns the session's cookie mode: [Config.CookieMode], unless
// [Session.SetPersistent] chose otherwise for this session.
func (s *Session) CookieMode() CookieMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadLocked()
	return s.cookieModeLocked()
}

// cookieModeLocked is CookieMode for a caller that holds s.mu.
func (s *Session) cookieModeLocked() CookieMode {
	if s.rec != nil && !s.destroyed {
		switch string(s.rec.Values[keyPersistent]) {
		case "true":
			return CookiePersistent
		case "false":
			return CookieSession
		}
	}
	return s.m.cfg.CookieMode
}

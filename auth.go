package tether

import "errors"

type login struct{ userID, role string }

var errEmptyUserID = errors.New("tether: Login needs a non-empty user ID: pass the ID of the user who just proved who they are")

// Regenerate gives the session a new token, keeping its values and deadlines.
// The old record is deleted when the response starts, so the old cookie stops
// working at once. Use it whenever the privilege level changes; Login does it
// for you. Like every change, it returns [ErrResponseStarted] once the
// response has started.
func (s *Session) Regenerate() error { return s.regenerate(nil) }

// Login marks the session as authenticated as userID and regenerates it (the
// defence against session fixation): a new token, the old record deleted, a
// fresh absolute deadline chosen by role (see Config.RoleAbsoluteTimeouts; ""
// for the default). A login_success event is emitted when it is saved. An
// empty userID is a programming error ([StatusOf] answers it with 500);
// after the response has started Login returns [ErrResponseStarted].
//
// What happens to the session's values depends on who held it:
//
//   - An anonymous session, or one of another user: the new session starts
//     with no values at all. Nothing an attacker planted in the anonymous
//     session (a cookie set from a sibling subdomain, a link with a known
//     token) reaches the victim's authenticated one: no CSRF token, no
//     cart, no flash. Values set before Login in the same request are
//     dropped too: set them after it.
//   - The same user (a second login to the same account): the values are
//     carried over, except those under [LoginScopedKeyPrefix] (the CSRF
//     token), which are dropped.
//
// tether's own bookkeeping (keys under [ReservedKeyPrefix], such as the
// [Session.SetPersistent] choice) survives either way, except the device
// binding ([DeviceBindingKeyPrefix]): a login starts an unbound session.
func (s *Session) Login(userID, role string) error {
	if userID == "" {
		return errEmptyUserID
	}
	return s.regenerate(&login{userID: userID, role: role})
}

// Reauthenticate records that the user just proved their identity again
// (a password re-entered for a sensitive action): the authentication time
// becomes now and the session gets a new token, keeping its values (except
// those under [LoginScopedKeyPrefix], such as the CSRF token), user and
// absolute deadline. It fails with [ErrNotAuthenticated] for an anonymous
// session.
func (s *Session) Reauthenticate() error {
	if s.UserID() == "" {
		return ErrNotAuthenticated
	}
	if err := s.regenerate(nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.reauth = true
	s.dropLocked(dropLoginScoped)
	s.mu.Unlock()
	return nil
}

// ChangeRole records a change of the signed-in user's role (a privilege
// change, ASVS 7.2.4 / OWASP: renew the session on privilege change): the
// session gets a new token, keeping its values (except those under
// [LoginScopedKeyPrefix], such as the CSRF token), and its absolute deadline
// becomes the earlier of the current one and the new role's absolute
// timeout ([Config.RoleAbsoluteTimeouts]) counted from the last
// authentication. A promotion to a role with a shorter life (admins)
// therefore shortens the session; a demotion never lengthens it. When that
// deadline has already passed, the session is destroyed and ChangeRole
// returns [ErrSessionEnded]. It fails with [ErrNotAuthenticated] for an
// anonymous session. Storing the role itself in the session's values is
// the application's business.
func (s *Session) ChangeRole(role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rotatableLocked(); err != nil {
		return err
	}
	if s.rec == nil || s.rec.UserID == "" || s.login != nil {
		if s.login != nil { // logged in during this request: its deadline is not stored yet
			s.login.role = role
			return nil
		}
		return ErrNotAuthenticated
	}
	abs := minTime(s.rec.AbsoluteDeadline, s.rec.AuthenticatedAt.Add(s.m.cfg.absoluteTimeout(role)))
	if !abs.After(s.m.cfg.Now()) {
		s.destroyed = true
		return ErrSessionEnded
	}
	s.rec.AbsoluteDeadline = abs
	s.regen = true
	s.dropLocked(dropLoginScoped)
	return nil
}

func (s *Session) regenerate(l *login) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rotatableLocked(); err != nil {
		return err
	}
	rec := s.ensure()
	s.regen = true
	if l != nil {
		cur := rec.UserID
		if s.login != nil {
			cur = s.login.userID
		}
		if cur == l.userID {
			s.dropLocked(dropLogin)
		} else {
			s.dropLocked(dropAll) // issue 11 row 4: a new user starts afresh
		}
		s.login = l
	}
	return nil
}

// Destroy ends the session: the record is deleted and the session cookie
// expired when the response starts. Only that cookie: no Clear-Site-Data
// header is sent (issue 11 row 1), because "cookies" would also wipe the
// device cookie that protects the user from lockout and the cookies of
// sibling applications on the same site. A "sign out everywhere" handler
// (after [Manager.EndUserSessions]) or the answer to a disabled account may
// add it itself, knowing that cost:
//
//	w.Header().Set("Clear-Site-Data", `"cookies"`)
//
// Called after the response has started, it changes nothing (the cookie can
// no longer be expired) and [Session.Err] reports [ErrResponseStarted]: end
// the session in the request that answers the logout, or from outside it
// with [Manager.EndUserSessions]. Its signature stays without an error
// result, as every caller's is written, so the mistake is kept for Err.
func (s *Session) Destroy() { s.destroy(false) }

// Logout is Destroy that records a logout event. Like Destroy, it expires
// the session cookie only and sends no Clear-Site-Data header.
func (s *Session) Logout() { s.destroy(true) }

func (s *Session) destroy(logout bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lateLocked() {
		return
	}
	s.loadLocked()
	s.destroyed = true
	if logout {
		s.logout = true
	}
}

// rotatableLocked loads the session and reports whether its token may still
// be changed: not once the session is saved ([ErrResponseStarted]), nor
// after Destroy or Logout ([ErrSessionDestroyed]). The caller holds s.mu.
func (s *Session) rotatableLocked() error {
	if err := s.changeLocked(); err != nil {
		return err
	}
	s.loadLocked()
	if s.destroyed {
		return ErrSessionDestroyed
	}
	return nil
}

package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/passwords"
	"github.com/tetherhq/tether/internal/throttle"
	"github.com/tetherhq/tether/internal/users"
)

// Session keys of the context binding recorded at login.
const (
	bindUAKey       = "bindUA"
	bindNetKey      = "bindNet"
	bindMismatchKey = "bindMismatch"
	maxBoundUA      = 256
)

// coarseNetwork is the client's /24 (IPv4) or /48 (IPv6): mobile clients
// move within it often; a jump outside it is worth noticing.
func coarseNetwork(ip string) string {
	p, ok := coarsePrefix(ip)
	if !ok {
		return ""
	}
	return p.String()
}

func coarsePrefix(ip string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// inNetwork reports whether coarseNetwork(ip) == want, without allocating:
// it runs on every authenticated request.
func inNetwork(ip, want string) bool {
	p, ok := coarsePrefix(ip)
	if !ok {
		return want == ""
	}
	var buf [64]byte // an IPv6 prefix is at most 43 bytes
	return string(p.AppendTo(buf[:0])) == want
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > maxBoundUA {
		ua = ua[:maxBoundUA]
	}
	return ua
}

// bind records the request's context in the session (at login and after a
// re-authentication).
func (s *Server) bind(sess *tether.Session, r *http.Request) error {
	sess.Remove(bindMismatchKey)
	if err := sess.Set(bindUAKey, userAgent(r)); err != nil {
		return err
	}
	return sess.Set(bindNetKey, coarseNetwork(s.clientIP(r)))
}

// checkBinding compares the request's context with the one recorded at
// login. A change is logged once as binding_mismatch and flags the session,
// so sensitive actions need a re-authentication; with SESSION_BINDING=strict
// the session is ended instead and checkBinding answers 401 and reports
// false.
func (s *Server) checkBinding(w http.ResponseWriter, r *http.Request, sess *tether.Session) bool {
	if s.binding == "off" {
		return true
	}
	wantUA, wantNet := sess.GetString(bindUAKey), sess.GetString(bindNetKey)
	if wantUA == "" && wantNet == "" {
		return true
	}
	var changed string
	uaChanged := wantUA != userAgent(r)
	netChanged := !inNetwork(s.clientIP(r), wantNet)
	switch {
	case uaChanged && netChanged:
		changed = "user_agent,network"
	case uaChanged:
		changed = "user_agent"
	case netChanged:
		changed = "network"
	default:
		return true
	}
	flagged := sess.GetBool(bindMismatchKey)
	if s.binding == "strict" {
		s.m.Emit(r, "binding_mismatch", slog.String("changed", changed), slog.String("action", "session_ended"))
		sess.Destroy()
		tether.WriteJSONError(w, http.StatusUnauthorized, "Session ended: its context changed; log in again")
		return false
	}
	if !flagged {
		s.m.Emit(r, "binding_mismatch", slog.String("changed", changed), slog.String("action", "reauth_required"))
		_ = sess.Set(bindMismatchKey, true)
	}
	return true
}

// requireRecentAuth guards sensitive actions: an authenticated session
// whose last authentication is within SESSION_REAUTH_WINDOW and whose
// context has not changed since; otherwise 401 Re-authentication required.
func (s *Server) requireRecentAuth(next http.HandlerFunc) http.HandlerFunc {
	return s.requireAuth(func(w http.ResponseWriter, r *http.Request) {
		sess := tether.FromContext(r.Context())
		if sess.GetBool(bindMismatchKey) || time.Since(sess.AuthenticatedAt()) > s.reauthWindow {
			tether.WriteJSONError(w, http.StatusUnauthorized, "Re-authentication required")
			return
		}
		next(w, r)
	})
}

// reauth handles POST /reauth {password}: a fresh proof of identity renews
// the authentication time, clears a context-change flag and rotates the
// token.
func (s *Server) reauth(w http.ResponseWriter, r *http.Request) {
	var password string
	if err := decodeForm(w, r, map[string]*string{"password": &password}); err != nil {
		writeError(w, err)
		return
	}
	if password == "" || len(password) > maxPasswordBytes {
		tether.WriteJSONError(w, http.StatusBadRequest, "password is required (at most 1024 bytes)")
		return
	}
	sess := tether.FromContext(r.Context())
	if _, err := s.authenticateCurrent(r, sess, password); err != nil {
		s.credentialError(w, err)
		return
	}
	if err := sess.Reauthenticate(); err != nil {
		s.sessionError(w, r, err)
		return
	}
	if err := s.bind(sess, r); err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.m.Emit(r, "reauth_success")
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// changePassword handles POST /password {currentPassword,newPassword}: it
// needs a recent authentication, ends every other session of the user and
// rotates the caller's token (ASVS 7.4.3).
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var current, next string
	if err := decodeForm(w, r, map[string]*string{"currentPassword": &current, "newPassword": &next}); err != nil {
		writeError(w, err)
		return
	}
	if current == "" || next == "" || len(current) > maxPasswordBytes || len(next) > maxPasswordBytes {
		tether.WriteJSONError(w, http.StatusBadRequest, "currentPassword and newPassword are required (at most 1024 bytes each)")
		return
	}
	sess := tether.FromContext(r.Context())
	u, err := s.authenticateCurrent(r, sess, current)
	if err != nil {
		s.credentialError(w, err)
		return
	}
	if err := s.users.SetPassword(r.Context(), u.Username, next); err != nil {
		tether.WriteJSONError(w, http.StatusBadRequest, publicPasswordError(err))
		return
	}
	ended, err := sess.EndOtherSessions(r.Context())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	if err := sess.Regenerate(); err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.m.Emit(r, "password_changed")
	// The new hash voids every device cookie of the account; this browser,
	// which just proved the password, gets a new one.
	if nu, err := s.users.Get(r.Context(), u.Username); err == nil {
		s.devices.issue(w, nu.Username, nu.PasswordHash)
	}
	if ended > 0 {
		s.m.Emit(r, "session_revoked", slog.Int("count", ended), slog.String("reason", "password_changed"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": ended})
}

// throttledError is a password check refused by login throttling.
type throttledError struct {
	wait  time.Duration
	which string
}

func (e *throttledError) Error() string { return "too many failed password checks (" + e.which + ")" }

// errThrottleUnavailable wraps a failure of the login throttle's counters.
var errThrottleUnavailable = errors.New("login throttle unavailable")

// checkPassword is every password check of the server (/login, /reauth,
// /password): it goes through the login throttle (account or device, and
// client IP; the attempt is counted before the check, see throttle.Begin),
// so no route guesses faster than another. wantID, when not "", is the user
// the password must belong to. A failure emits failureEvent; a refusal is a
// *throttledError after a rate_limited event; a throttle store failure
// wraps errThrottleUnavailable; a directory failure is returned as it is.
func (s *Server) checkPassword(r *http.Request, username, password, wantID, failureEvent string) (users.User, error) {
	attempt := throttle.Attempt{Username: username, IP: s.clientIP(r), Device: s.device(r, username)}
	ticket, wait, which, err := s.throttle.Begin(r.Context(), attempt)
	if err != nil {
		return users.User{}, fmt.Errorf("%w: %w", errThrottleUnavailable, err)
	}
	if wait > 0 {
		s.m.Emit(r, "rate_limited", slog.String("limit", which), slog.Int64("retryAfterSeconds", int64(math.Ceil(wait.Seconds()))))
		return users.User{}, &throttledError{wait, which}
	}
	u, err := s.users.Authenticate(r.Context(), username, password)
	if err == nil && wantID != "" && u.ID != wantID {
		err = users.ErrInvalidCredentials
	}
	switch {
	case errors.Is(err, users.ErrInvalidCredentials):
		s.m.Emit(r, failureEvent) // counted already by Begin
		return users.User{}, err
	case err != nil:
		if terr := ticket.Abandon(r.Context()); terr != nil {
			s.log.Error("login throttle unavailable", "err", terr)
		}
		return users.User{}, err
	}
	if terr := ticket.Succeeded(r.Context()); terr != nil {
		s.log.Error("login throttle unavailable", "err", terr)
	}
	return u, nil
}

// authenticateCurrent checks password against the session's user, so a
// stolen session cannot guess the account's password through /reauth or
// /password faster than through /login.
func (s *Server) authenticateCurrent(r *http.Request, sess *tether.Session, password string) (users.User, error) {
	return s.checkPassword(r, sess.GetString("username"), password, sess.UserID(), "reauth_failure")
}

func (s *Server) credentialError(w http.ResponseWriter, err error) {
	var te *throttledError
	switch {
	case errors.Is(err, users.ErrInvalidCredentials):
		tether.WriteJSONError(w, http.StatusUnauthorized, "Invalid credentials")
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(te.wait.Seconds())), 10))
		tether.WriteJSONError(w, http.StatusTooManyRequests, "Too many failed password checks; try again later")
	default:
		s.log.Error("user directory or login throttle unavailable", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "User directory unavailable")
	}
}

func publicPasswordError(err error) string {
	switch {
	case errors.Is(err, passwords.ErrPasswordTooShort):
		return "newPassword is too short (at least 8 bytes)"
	case errors.Is(err, passwords.ErrPasswordTooLong):
		return "newPassword is too long (at most 1024 bytes)"
	}
	return "newPassword was refused"
}

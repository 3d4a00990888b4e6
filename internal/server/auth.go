package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/throttle"
)

// Limits on credentials, checked before any hashing.
const (
	maxUsernameBytes = 64
	maxPasswordBytes = 1024
)

// login handles POST /login {username,password}: the password check
// (checkPassword, throttled), the session cap, then a new authenticated
// session bound to the request's context, and a device cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var username, password string
	if err := decodeForm(w, r, map[string]*string{"username": &username, "password": &password}); err != nil {
		writeError(w, err)
		return
	}
	if username == "" || password == "" {
		tether.WriteJSONError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if len(username) > maxUsernameBytes || len(password) > maxPasswordBytes {
		tether.WriteJSONError(w, http.StatusBadRequest, "username or password too long")
		return
	}
	u, err := s.checkPassword(r, username, password, "", tether.EventLoginFailure)
	if err != nil {
		s.credentialError(w, err, loginRefusals)
		return
	}
	if err := s.enforceCap(r, u.ID); err != nil {
		s.sessionError(w, r, err)
		return
	}
	sess := tether.FromContext(r.Context())
	err = errors.Join(
		sess.Login(u.ID, u.Role),
		sess.Set("username", u.Username),
		sess.Set("role", u.Role),
		// The generation read with the verified hash, and a re-check of the
		// account at the next request: the credentials may change between
		// this login's read and its session's creation (credGenKey).
		sess.Set(credGenKey, u.Generation),
		sess.Set(AccountChangedKey, 1),
		s.bind(sess, r),
		s.recordMeta(sess, r),
		s.offerDBSC(w, r), // after Login: the new session is offered (dbsc.go)
	)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.devices.issue(w, u.Username, u.PasswordHash)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "user": u.Username})
}

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
		s.m.Emit(r, tether.EventRateLimited, slog.String("limit", which), slog.Int64("retryAfterSeconds", retryAfter(wait)))
		return users.User{}, &throttledError{wait, which}
	}
	// The wait for a hashing slot is bounded (Options.HashWait): under a
	// burst of logins that no throttle stops (many accounts, many
	// addresses), a check that cannot start in time is refused with 429
	// rather than left waiting past the server's WriteTimeout, whose
	// connection would then close with no answer (issue 12, floods).
	actx, cancel := context.WithTimeoutCause(r.Context(), s.hashWait, errHashingBusy)
	u, err := s.users.Authenticate(actx, username, password)
	// Whatever failed once the wait ran out (the slot, or a directory query
	// cut by the same deadline) is the server being too busy, not an outage.
	busy := err != nil && errors.Is(context.Cause(actx), errHashingBusy)
	cancel()
	if busy {
		if terr := ticket.Abandon(r.Context()); terr != nil {
			s.log.Error("login throttle unavailable", "err", terr)
		}
		s.m.Emit(r, tether.EventRateLimited, slog.String("limit", "hashing"), slog.Int64("retryAfterSeconds", hashingRetryAfter))
		return users.User{}, &throttledError{hashingRetryAfter * time.Second, "hashing"}
	}
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

// throttledError is a password check refused by login throttling.
type throttledError struct {
	wait  time.Duration
	which string
}

func (e *throttledError) Error() string { return "too many failed password checks (" + e.which + ")" }

// errHashingBusy is the cause of a password check's context when it waited
// Options.HashWait for a hashing slot; hashingRetryAfter is the Retry-After
// (seconds) of its 429.
var errHashingBusy = errors.New("no password hashing slot within the wait")

const hashingRetryAfter = 5

// errThrottleUnavailable wraps a failure of the login throttle's counters.
var errThrottleUnavailable = errors.New("login throttle unavailable")

// logout handles POST /logout: ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tether.FromContext(r.Context()).Logout()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// requireAuth answers 401 unless the session is authenticated.
func (s *Server) requireAuth(next http.HandlerFunc) http.HandlerFunc {
	return s.authenticated(false, next)
}

// authenticated answers 401 unless the session is authenticated, checks its
// binding, and re-reads the account (touchSeen): at the "last seen" pace, or
// on every request when recheck is set.
func (s *Server) authenticated(recheck bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := tether.FromContext(r.Context())
		if sess.UserID() == "" {
			tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
			return
		}
		if !s.checkBinding(w, r, sess) {
			return
		}
		if !s.touchSeen(w, r, sess, recheck) {
			return
		}
		next(w, r)
	}
}

// requireRecentAuth guards sensitive actions: an authenticated session
// whose last authentication is within SESSION_REAUTH_WINDOW and whose
// context has not changed since; otherwise 401 Re-authentication required.
func (s *Server) requireRecentAuth(next http.HandlerFunc) http.HandlerFunc {
	return s.requireAuth(s.recentAuth(next))
}

// recentAuth is requireRecentAuth's check, for a session already known to
// be authenticated.
func (s *Server) recentAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := tether.FromContext(r.Context())
		if sess.GetBool(bindMismatchKey) || time.Since(sess.AuthenticatedAt()) > s.reauthWindow {
			tether.WriteJSONError(w, http.StatusUnauthorized, "Re-authentication required")
			return
		}
		next(w, r)
	}
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
		s.credentialError(w, err, checkRefusals)
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
	s.m.Emit(r, tether.EventReauthSuccess)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// authenticateCurrent checks password against the session's user, so a
// stolen session cannot guess the account's password through /reauth or
// /password faster than through /login.
func (s *Server) authenticateCurrent(r *http.Request, sess *tether.Session, password string) (users.User, error) {
	return s.checkPassword(r, sess.GetString("username"), password, sess.UserID(), tether.EventReauthFailure)
}

// refusals are a route's words for a password check it cannot accept.
type refusals struct {
	throttled    string // 429: too many failures
	throttleDown string // 503: the login throttle's counters cannot be read
}

var (
	loginRefusals = refusals{"Too many failed logins; try again later", "Login temporarily unavailable"}
	// checkRefusals are those of a session's own checks (/reauth, /password).
	checkRefusals = refusals{"Too many failed password checks; try again later", "User directory unavailable"}
)

// credentialError answers a failed checkPassword (or user lookup): 401 for
// wrong credentials, 429 with Retry-After when throttled, 503 when the
// throttle or the user directory is down.
func (s *Server) credentialError(w http.ResponseWriter, err error, words refusals) {
	var te *throttledError
	switch {
	case errors.Is(err, users.ErrInvalidCredentials):
		tether.WriteJSONError(w, http.StatusUnauthorized, "Invalid credentials")
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(te.wait), 10))
		msg := words.throttled
		if te.which == "hashing" {
			msg = "Too many password checks in progress; try again shortly"
		}
		tether.WriteJSONError(w, http.StatusTooManyRequests, msg)
	case errors.Is(err, errThrottleUnavailable):
		s.log.Error("login throttle unavailable", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, words.throttleDown)
	default:
		s.log.Error("user directory unavailable", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "User directory unavailable")
	}
}

// retryAfter is wait in whole seconds, rounded up: the Retry-After header
// and the rate_limited event's retryAfterSeconds.
func retryAfter(wait time.Duration) int64 { return int64(math.Ceil(wait.Seconds())) }

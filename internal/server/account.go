package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/passwords"
)

// Session keys of the metadata shown on GET /sessions.
const (
	metaIPKey   = "metaIP"
	metaUAKey   = "metaUA"
	metaSeenKey = "metaSeen" // Unix seconds
	// seenEvery bounds how often "last seen" is written: at most once a
	// minute, not on every request.
	seenEvery = time.Minute
)

// AccountChangedKey is the session value an admin tool sets (through
// tether.Manager.SetUserSessions) on every session of a user whose account
// changed, so that the server re-reads the account at the session's next
// request instead of at the once-a-minute pace. Login sets it too (see
// credGenKey).
const AccountChangedKey = "accountChanged"

// credGenKey holds the credential generation (users.User.Generation) that
// the session's login read, in the same row as the hash it verified. The
// account re-check (touchSeen) ends the session, reason
// "credentials_changed", when the account's generation differs. A password
// change, a disable and a revoke-all raise the generation first, then end
// the user's sessions through the per-user index (issue 11 row 3).
//
// Why that closes the race of a login that verified the old password while
// the change ran. The login reads generation G with the hash; the change
// raises it to G+1 (in the UPDATE that stores the new hash), then revokes
// every session listed under the user; the login then creates its session.
//
//   - Created before the revocation: the revocation finds it in the index
//     and deletes it.
//   - Created after it: it holds G, and login flags it with
//     AccountChangedKey, so its very next request re-reads the account
//     (failing closed while the directory cannot be read) and, the raise
//     having been committed before the revocation, which came before the
//     creation, finds G+1: the session ends there. Without the flag it
//     would have up to seenEvery.
//   - A login that read the row after the raise verified the new hash (or
//     saw the account disabled): it holds G+1 and is legitimate.
//
// After that first check, a later raise is followed by a revocation that
// finds the session in the index (or, during a token rotation, its
// successor: tether's rotation re-checks the old record after creating the
// new one), so the check at the once-a-minute pace is only a second line.
// A session from before the generation existed holds none, read as 0, the
// generation of every account the migration found.
const credGenKey = "credGen"

// profile handles GET /profile: who the session belongs to.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	sess := tether.FromContext(r.Context())
	writeJSON(w, http.StatusOK, struct {
		UserID   string `json:"userId"`
		Username string `json:"username"`
	}{sess.UserID(), sess.GetString("username")})
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
		s.credentialError(w, err, checkRefusals)
		return
	}
	if err := s.users.SetPassword(r.Context(), u.Username, next); err != nil {
		tether.WriteJSONError(w, http.StatusBadRequest, publicPasswordError(err))
		return
	}
	// SetPassword raised the generation: end the other sessions only now
	// (credGenKey), so that a login racing the change cannot survive it.
	ended, err := sess.EndOtherSessions(r.Context())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	if err := sess.Regenerate(); err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.m.Emit(r, tether.EventPasswordChanged)
	// This session goes on under the new generation. The new hash voids
	// every device cookie of the account; this browser, which just proved
	// the password, gets a new one. Should the account not be readable
	// now, the session keeps the old generation and is flagged, so its
	// next request ends it (fail closed): the user signs in again.
	nu, err := s.users.Get(r.Context(), u.Username)
	if err == nil {
		err = sess.Set(credGenKey, nu.Generation)
	}
	if err != nil {
		s.log.Error("password changed, but the session could not take the new credential generation", "err", err)
		_ = sess.Set(AccountChangedKey, 1)
	} else {
		s.devices.issue(w, nu.Username, nu.PasswordHash)
	}
	if ended > 0 {
		s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", ended), slog.String("reason", tether.EventPasswordChanged))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": ended})
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

// recordMeta stores where and when the session was used (at login).
func (s *Server) recordMeta(sess *tether.Session, r *http.Request) error {
	if err := sess.Set(metaIPKey, s.clientIP(r)); err != nil {
		return err
	}
	if err := sess.Set(metaUAKey, userAgent(r)); err != nil {
		return err
	}
	return sess.Set(metaSeenKey, time.Now().Unix())
}

// touchSeen refreshes "last seen" when it is older than seenEvery (the
// change rides on the request's save) and, at the same pace, re-reads the
// account: a disabled account's session ends, so does one whose credential
// generation changed (credGenKey), and a changed role rotates the token
// (role_changed). A "last seen" in the future counts as stale, never as
// fresh: clock skew between instances, or a record written by someone with
// access to the store, must not postpone the re-check (issue 11 row 7).
//
// The account is re-read at once, whatever the pace, when the session is
// flagged with AccountChangedKey or when force is set (admin routes, see
// requireAdmin). The flag is dropped only once the account has been applied.
// While the directory cannot be read, a flagged or forced request gets 503
// (fail closed) where a periodic one goes through. It reports false when it
// answered the request itself.
func (s *Server) touchSeen(w http.ResponseWriter, r *http.Request, sess *tether.Session, force bool) bool {
	flagged := sess.GetInt64(AccountChangedKey) != 0
	age := time.Now().Unix() - sess.GetInt64(metaSeenKey)
	due := age < 0 || age >= int64(s.seenEvery/time.Second)
	if !flagged && !force && !due {
		return true
	}
	u, err := s.users.Get(r.Context(), sess.GetString("username"))
	switch {
	case err != nil && !errors.Is(err, users.ErrNotFound):
		if flagged || force {
			// An admin changed the account, or the route needs the account
			// as it is now, and it cannot be read: fail closed, and keep
			// the flag for the next request.
			s.log.Error("account re-check required but the user directory is unavailable", "err", err, "flagged", flagged)
			tether.WriteJSONError(w, http.StatusServiceUnavailable, "User directory unavailable")
			return false
		}
		// The periodic check: let the request through, and note the visit
		// anyway, so that an outage costs each session one directory call a
		// minute (seenEvery), not one per request.
		s.log.Warn("account re-check skipped: user directory unavailable", "err", err)
		_ = sess.Set(metaSeenKey, time.Now().Unix())
		return true
	case err != nil || u.Disabled || u.ID != sess.UserID():
		s.m.Emit(r, tether.EventSessionRevoked, slog.String("reason", "account_disabled"))
		sess.Destroy()
		tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
		return false
	case sess.GetInt64(credGenKey) != u.Generation:
		// Authenticated with credentials that changed since (credGenKey).
		s.m.Emit(r, tether.EventSessionRevoked, slog.String("reason", "credentials_changed"))
		sess.Destroy()
		tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
		return false
	case u.Role != sess.GetString("role"):
		// A privilege change: new token, and the new role's absolute
		// timeout caps the session (a user promoted to admin gets the
		// admin's shorter life, counted from the last authentication).
		old := sess.GetString("role")
		err := sess.ChangeRole(u.Role)
		if errors.Is(err, tether.ErrSessionEnded) {
			s.m.Emit(r, tether.EventRoleChanged, slog.String("from", old), slog.String("to", u.Role), slog.String("action", "session_ended"))
			tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
			return false
		}
		if err == nil {
			err = sess.Set("role", u.Role)
		}
		if err != nil { // the old role must not go on: fail closed
			s.sessionError(w, r, err)
			return false
		}
		s.m.Emit(r, tether.EventRoleChanged, slog.String("from", old), slog.String("to", u.Role))
	}
	// The account is applied: only now drop the flag and note the visit
	// (a forced re-check alone does not, so that an admin's every request
	// is not also a session write).
	if flagged {
		sess.Remove(AccountChangedKey)
	}
	if !due && !flagged {
		return true
	}
	if err := errors.Join(sess.Set(metaSeenKey, time.Now().Unix()), sess.Set(metaIPKey, s.clientIP(r))); err != nil {
		s.sessionError(w, r, err)
		return false
	}
	return true
}

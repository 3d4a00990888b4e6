package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
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
// request instead of at the once-a-minute pace.
const AccountChangedKey = "accountChanged"

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
// account: a disabled account's session ends, and a changed role rotates the
// token (role_changed). A session flagged with AccountChangedKey is
// re-read at once, and the flag is dropped only once the account has been
// applied; while the directory cannot be read, such a request gets 503
// (fail closed) where an unflagged one goes through. It reports false when
// it answered the request itself.
func (s *Server) touchSeen(w http.ResponseWriter, r *http.Request, sess *tether.Session) bool {
	flagged := sess.GetInt64(AccountChangedKey) != 0
	if !flagged && time.Now().Unix()-sess.GetInt64(metaSeenKey) < int64(s.seenEvery/time.Second) {
		return true
	}
	u, err := s.users.Get(r.Context(), sess.GetString("username"))
	switch {
	case err != nil && !errors.Is(err, users.ErrNotFound):
		if flagged {
			// An admin changed the account and the change cannot be read:
			// fail closed, and keep the flag for the next request.
			s.log.Error("account change pending but the user directory is unavailable", "err", err)
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
		s.m.Emit(r, "session_revoked", slog.String("reason", "account_disabled"))
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
			s.m.Emit(r, "role_changed", slog.String("from", old), slog.String("to", u.Role), slog.String("action", "session_ended"))
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
		s.m.Emit(r, "role_changed", slog.String("from", old), slog.String("to", u.Role))
	}
	// The account is applied: only now drop the flag and note the visit.
	if flagged {
		sess.Remove(AccountChangedKey)
	}
	if err := errors.Join(sess.Set(metaSeenKey, time.Now().Unix()), sess.Set(metaIPKey, s.clientIP(r))); err != nil {
		s.sessionError(w, r, err)
		return false
	}
	return true
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"userAgent"`
}

// listSessions handles GET /sessions: the caller's sessions, never a token
// or store key (ids are salted handles).
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	sess := tether.FromContext(r.Context())
	list, err := s.m.UserSessions(r.Context(), sess.UserID())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	current := sess.Handle()
	for _, info := range list {
		out = append(out, toJSON(info, current))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// toJSON renders one session of a listing; current is the caller's id.
func toJSON(info tether.SessionInfo, current string) sessionJSON {
	j := sessionJSON{ID: info.ID, Current: info.ID == current, CreatedAt: info.CreatedAt.UTC()}
	var seen int64
	_ = jsonValue(info, metaSeenKey, &seen)
	if seen > 0 {
		j.LastSeenAt = time.Unix(seen, 0).UTC()
	}
	_ = jsonValue(info, metaIPKey, &j.IP)
	_ = jsonValue(info, metaUAKey, &j.UserAgent)
	return j
}

// deleteSession handles DELETE /sessions/{id}: ends one of the caller's
// sessions (a sensitive action: it needs a recent authentication).
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) != 16 {
		tether.WriteJSONError(w, http.StatusNotFound, "No such session")
		return
	}
	sess := tether.FromContext(r.Context())
	if id == sess.Handle() {
		sess.Logout()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": 1})
		return
	}
	n, err := s.m.EndUserSessions(r.Context(), sess.UserID(), id)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	if n == 0 {
		tether.WriteJSONError(w, http.StatusNotFound, "No such session")
		return
	}
	s.m.Emit(r, "session_revoked", slog.Int("count", n), slog.String("reason", "user_request"))
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": n})
}

// revokeOthers handles POST /sessions/revoke-others.
func (s *Server) revokeOthers(w http.ResponseWriter, r *http.Request) {
	sess := tether.FromContext(r.Context())
	n, err := sess.EndOtherSessions(r.Context())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	if n > 0 {
		s.m.Emit(r, "session_revoked", slog.Int("count", n), slog.String("reason", "user_request"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": n})
}

// enforceCap ends the user's oldest sessions so that, with the one being
// created, at most maxPerUser remain (ASVS 7.1.2).
func (s *Server) enforceCap(r *http.Request, userID string) error {
	list, err := s.m.UserSessions(r.Context(), userID)
	if err != nil {
		return err
	}
	over := len(list) - (s.maxPerUser - 1)
	if over <= 0 {
		return nil
	}
	ids := make([]string, 0, over)
	for _, info := range list[:over] { // oldest first
		ids = append(ids, info.ID)
	}
	n, err := s.m.EndUserSessions(r.Context(), userID, ids...)
	if err != nil {
		return err
	}
	s.m.Emit(r, "session_revoked", slog.Int("count", n), slog.String("reason", "session_cap"),
		slog.String("limit", strconv.Itoa(s.maxPerUser)))
	return nil
}

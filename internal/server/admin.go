package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// requireAdmin guards admin routes: an authenticated session whose account
// is an enabled admin in the user directory now. The role is re-read from the
// directory on every admin request, not taken from the session (which holds
// it as of the last re-check, up to a minute old) nor left to the
// once-a-minute pace of touchSeen: an admin demoted a second ago gets 403, a
// disabled one's session ends (401), and when the directory cannot be read
// the request gets 503 (fail closed). A role change found on the way rotates
// the token, as on any route (issue 11 row 7).
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return s.authenticated(true, adminRole(next))
}

// requireRecentAdmin is requireAdmin for sensitive admin actions: the
// session's last authentication must also be recent (requireRecentAuth),
// which is checked first.
func (s *Server) requireRecentAdmin(next http.HandlerFunc) http.HandlerFunc {
	return s.authenticated(true, s.recentAuth(adminRole(next)))
}

// adminRole answers 403 unless the session's role is admin. It trusts the
// role only right after touchSeen re-read it with force set.
func adminRole(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if tether.FromContext(r.Context()).GetString("role") != users.RoleAdmin {
			tether.WriteJSONError(w, http.StatusForbidden, "Admin role required")
			return
		}
		next(w, r)
	}
}

// targetUser resolves {name}, answering 404 itself when there is none.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request) (users.User, bool) {
	u, err := s.users.Get(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, users.ErrNotFound):
		tether.WriteJSONError(w, http.StatusNotFound, "No such user")
		return u, false
	case err != nil:
		s.credentialError(w, err, checkRefusals)
		return u, false
	}
	return u, true
}

// adminListSessions handles GET /admin/users/{name}/sessions.
func (s *Server) adminListSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	out, ok := s.userSessions(w, r, u.ID, "")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u.Username, "sessions": out})
}

// adminEndSessions handles DELETE /admin/users/{name}/sessions[/{id}]. Ending
// all of them raises the user's credential generation first (credGenKey).
func (s *Server) adminEndSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	var ids []string
	if id := r.PathValue("id"); id != "" {
		ids = []string{id}
	} else if err := s.users.RaiseGeneration(r.Context(), u.Username); err != nil {
		// All of them: raise the generation first, so that a login of the
		// user in flight is refused too (credGenKey).
		s.credentialError(w, err, checkRefusals)
		return
	}
	n, err := s.m.EndUserSessions(r.Context(), u.ID, ids...)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	if n == 0 && len(ids) > 0 {
		tether.WriteJSONError(w, http.StatusNotFound, "No such session")
		return
	}
	s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", "admin"), slog.String("targetUserId", u.ID))
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": n})
}

// adminEndAllSessions handles DELETE /admin/sessions: it ends every session
// of every user, anonymous ones included, without rotating the secrets
// (ASVS 7.4.5), and answers {"ok":true,"endedSessions":N}. Every user's
// credential generation is raised first, so that a login in flight, whose
// password check came before, is refused at its next request too
// (credGenKey); then the store is purged (tether.Manager.EndAllSessions).
// The caller's own session ends with the others: its cookie is expired in
// this answer. It emits session_revoked with reason revoke_all and the
// count.
func (s *Server) adminEndAllSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.users.RaiseAllGenerations(r.Context()); err != nil {
		s.credentialError(w, err, checkRefusals)
		return
	}
	n, err := s.m.EndAllSessions(r.Context())
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", tether.ReasonRevokeAll))
	tether.FromContext(r.Context()).Destroy()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": n})
}

package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// requireAdmin guards admin routes: an authenticated admin session (the role
// is re-read from the account at the last-seen pace, see touchSeen).
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
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

// adminEndSessions handles DELETE /admin/users/{name}/sessions[/{id}].
func (s *Server) adminEndSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	var ids []string
	if id := r.PathValue("id"); id != "" {
		ids = []string{id}
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

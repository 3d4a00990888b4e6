package server

import (
	"log/slog"
	"net/http"

	"github.com/tetherhq/tether"
)

// adminDisable handles POST /admin/users/{name}/disable: the account can no
// longer sign in and its sessions end at once (ASVS 7.4.2), as `tether user
// disable` does. An admin cannot disable their own account here (409): the
// last admin would lock everyone out of this page.
func (s *Server) adminDisable(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	if u.ID == tether.FromContext(r.Context()).UserID() {
		tether.WriteJSONError(w, http.StatusConflict, "You cannot disable your own account")
		return
	}
	if err := s.users.SetDisabled(r.Context(), u.Username, true); err != nil {
		s.credentialError(w, err, checkRefusals)
		return
	}
	s.m.Emit(r, tether.EventUserDisabled, slog.String("targetUserId", u.ID))
	n, err := s.m.EndUserSessions(r.Context(), u.ID)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", "account_disabled"), slog.String("targetUserId", u.ID))
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "endedSessions": n})
}

// adminEnable handles POST /admin/users/{name}/enable.
func (s *Server) adminEnable(w http.ResponseWriter, r *http.Request) {
	u, ok := s.targetUser(w, r)
	if !ok {
		return
	}
	if err := s.users.SetDisabled(r.Context(), u.Username, false); err != nil {
		s.credentialError(w, err, checkRefusals)
		return
	}
	s.m.Emit(r, tether.EventUserEnabled, slog.String("targetUserId", u.ID))
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
)

type sessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"userAgent"`
	// DeviceBound: a browser bound the session to its key (DBSC, dbsc.go);
	// DeviceBoundSince: when.
	DeviceBound      bool       `json:"deviceBound"`
	DeviceBoundSince *time.Time `json:"deviceBoundSince,omitempty"`
}

// listSessions handles GET /sessions: the caller's sessions, never a token
// or store key (ids are salted handles).
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	sess := tether.FromContext(r.Context())
	out, ok := s.userSessions(w, r, sess.UserID(), sess.PublicID())
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// userSessions renders userID's sessions for a listing, marking current (the
// caller's id, or ""). On a store failure it answers the request itself and
// reports false.
func (s *Server) userSessions(w http.ResponseWriter, r *http.Request, userID, current string) ([]sessionJSON, bool) {
	list, err := s.m.UserSessions(r.Context(), userID)
	if err != nil {
		s.sessionError(w, r, err)
		return nil, false
	}
	out := make([]sessionJSON, 0, len(list))
	for _, info := range list {
		out = append(out, toJSON(info, current))
	}
	return out, true
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
	deviceBinding(info, &j)
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
	if id == sess.PublicID() {
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
	s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", "user_request"))
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
		s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", "user_request"))
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
	s.m.Emit(r, tether.EventSessionRevoked, slog.Int("count", n), slog.String("reason", "session_cap"),
		slog.String("limit", strconv.Itoa(s.maxPerUser)))
	return nil
}

// jsonValue decodes the session value key of info into dst.
func jsonValue(info tether.SessionInfo, key string, dst any) error {
	raw, ok := info.Values[key]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

package server

import (
	"context"
	"net/http"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
)

// root handles GET /.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("Server is running."))
}

// views handles GET /views: counts the session's visits.
func (s *Server) views(w http.ResponseWriter, r *http.Request) {
	n, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Views int64 `json:"views"`
	}{n})
}

// csrfToken handles GET /csrf-token: the session's CSRF token.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) {
	tok, err := csrf.Token(r)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		CSRFToken string `json:"csrfToken"`
	}{tok})
}

// healthz handles GET /healthz: the process answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz handles GET /readyz: the stores answer too.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.Warn("readyz: not ready", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "Not ready: a store is unreachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

package tether

import (
	"encoding/json"
	"errors"
	"net/http"
)

// StatusOf maps an error from the middleware or a Session method to the HTTP
// status and the client-facing message that [DefaultErrorHandler] writes. The
// message never contains a token, cookie value or store key.
func StatusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrDuplicateCookie):
		return http.StatusBadRequest, "Duplicate session cookie"
	case errors.Is(err, ErrCookieTooLarge):
		return http.StatusRequestHeaderFieldsTooLarge, "Session cookie too large"
	case errors.Is(err, ErrNotAuthenticated):
		return http.StatusUnauthorized, "Not authenticated"
	case errors.Is(err, ErrSessionEnded), errors.Is(err, ErrSessionDestroyed):
		return http.StatusUnauthorized, "Session ended"
	case errors.Is(err, ErrValueTooLarge):
		return http.StatusRequestEntityTooLarge, "Session data too large"
	case errors.Is(err, ErrNotInteger), errors.Is(err, ErrExists), errors.Is(err, ErrNoSession):
		// A handler incremented a value that is not a number, the random
		// source repeated itself, or the middleware is not installed: bugs,
		// not outages.
		return http.StatusInternalServerError, "Internal server error"
	default:
		// Every other failure is the store's: never a 500, and never a silent
		// logout. The client may retry.
		return http.StatusServiceUnavailable, "Session store unavailable"
	}
}

// Error answers r with err through [Config.ErrorHandler], as the middleware
// does for its own errors. Packages built on tether (csrf) and handlers use
// it so that an application's error pages cover every session error.
func (m *Manager) Error(w http.ResponseWriter, r *http.Request, err error) {
	m.cfg.ErrorHandler(w, r, err)
}

// DefaultErrorHandler writes {"error":"…"} with the status [StatusOf] gives.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := StatusOf(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSONError(w, status, msg)
}

// WriteJSONError writes {"error":msg} with the given status and
// Cache-Control: no-store. msg is JSON-escaped.
func WriteJSONError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	_, _ = w.Write(append(b, '\n'))
}

package tether

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// StatusOf maps an error from the middleware or a Session method to the HTTP
// status and the client-facing message that [DefaultErrorHandler] writes. The
// message never contains a token, cookie value or store key.
//
//   - Bad input from the client: 400 ([ErrDuplicateCookie]), 431
//     ([ErrCookieTooLarge]), 413 ([ErrValueTooLarge]).
//   - A session that is not (or no longer) authenticated: 401
//     ([ErrNotAuthenticated], [ErrSessionEnded], [ErrSessionDestroyed]).
//   - Too many new anonymous sessions from one client ([ErrCreateLimited],
//     refused by [Config.AllowCreate]): 429, with Retry-After from
//     DefaultErrorHandler.
//   - A store that cannot be reached: 503, with Retry-After from
//     DefaultErrorHandler (errors wrapping [ErrStoreUnavailable]: tether wraps
//     every store failure in it). It never looks like a logout.
//   - Everything else is a programming, wiring or encoding error and answers
//     500: [ErrNotInteger], [ErrExists], [ErrNoSession], [ErrResponseStarted],
//     a value [Session.Set] cannot encode as JSON, [Session.Login] with an
//     empty user ID, and any error tether does not know. A retry cannot
//     help, so none is invited.
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
	case errors.Is(err, ErrCreateLimited):
		return http.StatusTooManyRequests, "Too many new sessions; retry later"
	case errors.Is(err, ErrNotInteger), errors.Is(err, ErrExists), errors.Is(err, ErrNoSession), errors.Is(err, ErrResponseStarted):
		// Before the store check: a Create that finds its fresh key taken
		// (a broken random source) reaches here wrapped as a store error,
		// and it is a bug, not an outage.
		return http.StatusInternalServerError, "Internal server error"
	case errors.Is(err, ErrStoreUnavailable):
		return http.StatusServiceUnavailable, "Session store unavailable"
	default:
		return http.StatusInternalServerError, "Internal server error"
	}
}

// Error answers r with err through [Config.ErrorHandler], as the middleware
// does for its own errors. Packages built on tether (csrf) and handlers use
// it so that an application's error pages cover every session error.
//
// When w is this Manager's response writer and saving the session fails
// (the store is down: the usual reason for calling Error), the writer has
// already answered with that failure through Config.ErrorHandler, so Error
// does not call it a second time: one error, one call.
func (m *Manager) Error(w http.ResponseWriter, r *http.Request, err error) {
	if sw, ok := w.(*writer); ok && sw.s.m == m && !sw.commitOnce() {
		return
	}
	m.cfg.ErrorHandler(w, r, err)
}

// DefaultErrorHandler writes {"error":"…"} with the status [StatusOf] gives,
// and Retry-After on a 503 (1 second) and on a [*CreateLimitedError] (its
// RetryAfter, in whole seconds rounded up).
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := StatusOf(err)
	var limited *CreateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(limited.RetryAfter), 10))
	case status == http.StatusServiceUnavailable:
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

package tether

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Errors the middleware answers with a 4xx or 5xx response through
// Config.ErrorHandler. Use errors.Is to recognise them.
var (
	// ErrDuplicateCookie: the request carries the session cookie more than
	// once. Browsers send two cookies of one name when a sibling subdomain or
	// another path has planted a second one (cookie tossing); picking either
	// would let an attacker choose the session, so the request is refused.
	ErrDuplicateCookie = errors.New("tether: duplicate session cookie")
	// ErrCookieTooLarge: the session cookie is longer than
	// Config.MaxCookieBytes. A well-formed cookie is under 100 bytes.
	ErrCookieTooLarge = errors.New("tether: session cookie too large")
	// ErrSessionEnded: the session was destroyed or expired by another
	// request while this one was running, so its changes were not saved.
	// The record is never re-created (no resurrection).
	ErrSessionEnded = errors.New("tether: session ended during the request")
	// ErrSessionDestroyed is returned by Session methods called after Destroy
	// or Logout in the same request.
	ErrSessionDestroyed = errors.New("tether: session destroyed in this request")
	// ErrValueTooLarge: the session's values would exceed Config.MaxValueBytes.
	ErrValueTooLarge = errors.New("tether: session values too large")
	// ErrNotAuthenticated is returned by Reauthenticate on an anonymous session.
	ErrNotAuthenticated = errors.New("tether: the session is not authenticated")
	// ErrNoSession is returned by FromContext's callers' helpers when a
	// request did not pass through Manager.Handler.
	ErrNoSession = errors.New("tether: no session in request context (is Manager.Handler installed?)")
)

// StatusOf maps an error from the middleware or a Session method to the HTTP
// status and the client-facing message that DefaultErrorHandler writes. The
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
	case errors.Is(err, ErrNotInteger), errors.Is(err, ErrExists):
		// A handler incremented a value that is not a number, or the random
		// source repeated itself: bugs, not outages.
		return http.StatusInternalServerError, "Internal server error"
	default:
		// Every other failure is the store's: never a 500, and never a silent
		// logout. The client may retry.
		return http.StatusServiceUnavailable, "Session store unavailable"
	}
}

// DefaultErrorHandler writes {"error":"…"} with the status StatusOf gives.
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

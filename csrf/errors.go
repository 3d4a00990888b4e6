package csrf

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tetherhq/tether"
)

// Errors of [Protector.Check] that refuse a request. [Protector.Handler]
// hands them to [Options.ErrorHandler]; match them with errors.Is. None of
// them carries a token.
var (
	// ErrCrossOrigin: Sec-Fetch-Site or Origin marks the request as coming
	// from another origin that is not in [Options.TrustedOrigins].
	ErrCrossOrigin = errors.New("csrf: cross-origin request")
	// ErrNoToken: the session holds no token (no session yet, or one that
	// never called [Token]), so nothing the request sends can match.
	ErrNoToken = errors.New("csrf: the session holds no CSRF token (issue one with csrf.Token before the form or API call)")
	// ErrMissingToken: neither the X-CSRF-Token header nor a csrf_token form
	// field was sent.
	ErrMissingToken = errors.New("csrf: no CSRF token sent (X-CSRF-Token header or csrf_token field)")
	// ErrBadToken: the token sent is not the session's.
	ErrBadToken = errors.New("csrf: CSRF token does not match")
	// ErrBodyTooLarge: the token was looked for in the form body and not
	// found within [Options.MaxBodyBytes] (a urlencoded body longer than
	// that, a multipart body whose csrf_token field comes after that many
	// bytes, or an http.MaxBytesReader the application installed ran out).
	// The error Check returns also says the limit; [StatusOf] puts it in the
	// client's message.
	ErrBodyTooLarge = errors.New("csrf: form body too large")
	// ErrBodyRead: the body could not be read while looking for the token
	// (the client went away or timed out mid-upload). It is an I/O failure,
	// not a forgery, so it is not reported as a csrf_failure event.
	ErrBodyRead = errors.New("csrf: could not read the request body")
)

// tooLarge is the error Check returns for a body beyond the limit: it
// matches [ErrBodyTooLarge] and remembers the limit and the form's kind for
// the message.
type tooLarge struct {
	limit     int64
	multipart bool
}

func (e *tooLarge) Error() string {
	if e.multipart {
		return fmt.Sprintf("csrf: no csrf_token field in the first %s of the multipart form (put the hidden csrf_token input before any file input, or send the X-CSRF-Token header)", size(e.limit))
	}
	return fmt.Sprintf("csrf: form body larger than %s (Options.MaxBodyBytes); send the X-CSRF-Token header instead of the csrf_token field", size(e.limit))
}

func (e *tooLarge) Is(target error) bool { return target == ErrBodyTooLarge }

// size writes n bytes the way a person would read them: 1 MiB, 64 KiB,
// 1000 bytes.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// StatusOf maps an error of [Protector.Check] to the HTTP status and the
// client-facing message that [DefaultErrorHandler] writes, for an error
// handler that renders its own page with the same status:
//
//	ErrCrossOrigin                       403 Cross-origin request refused
//	ErrNoToken, ErrMissingToken,
//	ErrBadToken (and anything else)      403 Invalid CSRF token
//	ErrBodyTooLarge                      413 Request body too large (limit 1 MiB)
//	                                         or, for a multipart form, CSRF token not
//	                                         within the first 1 MiB of the form (…)
//	ErrBodyRead                          400 Could not read the request body
//
// The three token errors share one message on purpose: a client learns
// that its token was refused, not which check it failed (the csrf_failure
// event's reason tells the operator). Messages never contain a token.
func StatusOf(err error) (int, string) {
	var tl *tooLarge
	switch {
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden, "Cross-origin request refused"
	case errors.As(err, &tl) && tl.multipart:
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("CSRF token not within the first %s of the form (put the csrf_token field before file fields, or send the X-CSRF-Token header)", size(tl.limit))
	case errors.As(err, &tl):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large (limit %s)", size(tl.limit))
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "Request body too large"
	case errors.Is(err, ErrBodyRead):
		return http.StatusBadRequest, "Could not read the request body"
	}
	return http.StatusForbidden, "Invalid CSRF token"
}

// DefaultErrorHandler is the [Options.ErrorHandler] of a Protector that sets
// none: it writes {"error":"…"} with the status and message of [StatusOf],
// Content-Type application/json and Cache-Control: no-store.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := StatusOf(err)
	tether.WriteJSONError(w, status, msg)
}

// reason is the csrf_failure event's reason for err.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrCrossOrigin):
		return "cross_origin"
	case errors.Is(err, ErrNoToken):
		return "no_session_token"
	case errors.Is(err, ErrMissingToken):
		return "missing_token"
	case errors.Is(err, ErrBadToken):
		return "bad_token"
	case errors.Is(err, ErrBodyTooLarge):
		return "body_too_large"
	}
	return "invalid"
}

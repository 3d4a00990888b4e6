package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Why a browser's session ended, told on the sign-in page (issue 15). The
// reason reaches /login as a code from this fixed list in its URL
// (/login?reason=idle): nothing secret, and an unknown code shows nothing.
const (
	reasonSignedOut = "signed_out"
	reasonIdle      = "idle"
	reasonAbsolute  = "absolute"
	reasonRevoked   = "revoked"
	reasonBinding   = "binding"
)

var reasonMessages = map[string]string{
	reasonSignedOut: "You signed out.",
	reasonIdle:      "You were signed out after a period of inactivity. Sign in again to continue.",
	reasonAbsolute:  "Your session reached its maximum length. Sign in again to continue.",
	reasonRevoked:   "Your session was ended from another device or by an administrator.",
	reasonBinding:   "Your session ended because its browser or network changed. Sign in again to continue.",
	reasonDevice:    "This session is bound to a device and could not be confirmed from this browser. Sign in again to continue.",
}

// The sign-in state cookie remembers, for the browser's pages, what became
// of its last session, so that a page request without a live session can
// say why. Its value is not secret and proves nothing: "in.IDLE.ABS" (the
// Unix second of the session's idle and absolute deadlines when a page last
// showed it) or "out" (the browser signed out). Whoever edits it changes
// only which message of reasonMessages the browser sees. It is HttpOnly,
// SameSite=Lax, on Path=/, and in production __Host- and Secure, like the
// session cookie; it lasts a day past the absolute deadline (an hour for
// "out"). It is not deleted once the sign-in page has told why: another tab
// of the same browser may still have to be told, and the next page shown
// to a live session writes it anew.
//
// The session cookie cannot carry this: in the rolling cookie mode the
// browser drops it at the idle deadline, so an idled-out request arrives
// with no cookie at all, like a first visit. What the state cookie cannot
// see (the session kept alive by API calls since the last page, then
// revoked) is told as the nearest reason it can see.
type signinState struct{ name string }

func newSigninState(production bool) signinState {
	if production {
		return signinState{"__Host-tether_signin"}
	}
	return signinState{"tether_signin"}
}

func (c signinState) set(w http.ResponseWriter, production bool, value string, maxAge time.Duration) {
	ck := &http.Cookie{Name: c.name, Value: value, Path: "/", HttpOnly: true, Secure: production,
		SameSite: http.SameSiteLaxMode, MaxAge: max(int(maxAge/time.Second), 1)}
	http.SetCookie(w, ck)
}

// signedIn records the deadlines of the session a page just showed.
func (s *Server) signedIn(w http.ResponseWriter, idle, absolute time.Time) {
	if idle.IsZero() || absolute.IsZero() {
		return
	}
	v := "in." + strconv.FormatInt(idle.Unix(), 10) + "." + strconv.FormatInt(absolute.Unix(), 10)
	s.signin.set(w, s.production, v, time.Until(absolute)+24*time.Hour)
}

// signedOut records a sign-out by this browser.
func (s *Server) signedOut(w http.ResponseWriter) { s.signin.set(w, s.production, "out", time.Hour) }

// endReason tells why a page request has no live session, "" when the
// browser shows no sign of having had one (a first visit). A reason noted
// during this request (noteEnded: a binding refusal) comes first.
func (s *Server) endReason(r *http.Request, now time.Time) string {
	if n, ok := r.Context().Value(endNoteKey{}).(*endNote); ok && n.reason != "" {
		return n.reason
	}
	c, err := r.Cookie(s.signin.name)
	if err != nil {
		return ""
	}
	if c.Value == "out" {
		return reasonSignedOut
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || parts[0] != "in" {
		return ""
	}
	idle, err1 := strconv.ParseInt(parts[1], 10, 64)
	abs, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return ""
	}
	switch t := now.Unix(); {
	case t >= abs:
		return reasonAbsolute
	case t >= idle:
		return reasonIdle
	}
	return reasonRevoked
}

// endNote carries, through a page request's context, why the request's own
// checks ended its session.
type (
	endNote    struct{ reason string }
	endNoteKey struct{}
)

func withEndNote(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), endNoteKey{}, &endNote{}))
}

// noteEnded records why this request ended its session (for the page that
// follows); it does nothing outside a page request.
func noteEnded(r *http.Request, reason string) {
	if n, ok := r.Context().Value(endNoteKey{}).(*endNote); ok {
		n.reason = reason
	}
}

// loginURL is the sign-in page that returns to next after sign-in and says
// why the session ended.
func loginURL(next, reason string) string {
	u := "/login"
	sep := "?"
	if next != "" && next != "/account" {
		u += sep + "next=" + url.QueryEscape(next)
		sep = "&"
	}
	if reason != "" {
		u += sep + "reason=" + reason
	}
	return u
}

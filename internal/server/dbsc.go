package server

import (
	"net/http"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
)

// Device Bound Session Credentials (issue 16; package dbsc) in the
// reference server: SESSION_DBSC on (the default) gives
//
//   - POST /dbsc/register and POST /dbsc/refresh, exempt from the CSRF
//     token (the browser sends none) but not from the origin check;
//   - the registration offer on the sign-in response (JSON and form), once
//     per session, over HTTPS only (Options.Proxy decides the scheme);
//   - enforcement on every session route: a bound session's cookie without
//     a valid bound cookie gets 401 JSON, or 303 to /login?reason=device
//     for a page request, and dbsc_required. POST /login, GET /login and
//     POST /logout are let through: signing in again and signing out must
//     stay possible for a browser whose refresh failed (a thief with the
//     session cookie gains nothing by ending the session or seeing the
//     form), and /dbsc/refresh is how the bound cookie comes back.
//
// Over plain HTTP nothing is offered and sessions stay unbound (Chromium
// registers only with a trusted certificate).

// dbscExempt are the session routes enforcement lets through (besides
// /dbsc/refresh, which package dbsc exempts itself).
var dbscExempt = []string{"/login", "/logout"}

// reasonDevice is the sign-in page's ?reason= for a request refused by
// enforcement.
const reasonDevice = "device"

// newBinder builds the Binder, or nil when DBSC is off.
func newBinder(o Options, refuse func(http.ResponseWriter, *http.Request)) (*dbsc.Binder, error) {
	if o.DBSCOff {
		return nil, nil
	}
	return dbsc.New(o.Manager, dbsc.Config{CookieTTL: o.DBSCCookieTTL, Exempt: dbscExempt,
		Scheme: o.Proxy.Scheme, Refuse: refuse})
}

// refuseUnbound answers a request refused by enforcement: a page request
// (GET or HEAD preferring HTML) goes to the sign-in page and comes back
// after it, a page's form post goes to the sign-in page, anything else (an
// API client) gets 401 JSON.
func refuseUnbound(w http.ResponseWriter, r *http.Request) {
	switch {
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && prefersHTML(r.Header.Get("Accept")):
		seeOther(w, loginURL(r.URL.RequestURI(), reasonDevice))
		return
	case browserForm(r):
		seeOther(w, loginURL("", reasonDevice))
		return
	}
	tether.WriteJSONError(w, http.StatusUnauthorized, "This session is bound to a device and its device-bound cookie is missing or expired: sign in again")
}

// enforceDBSC wraps next with the enforcement, when DBSC is on.
func (s *Server) enforceDBSC(next http.Handler) http.Handler {
	if s.dbsc == nil {
		return next
	}
	return s.dbsc.Enforce(next)
}

// offerDBSC offers registration on a sign-in response; a failure to keep
// the challenge is answered like any session error.
func (s *Server) offerDBSC(w http.ResponseWriter, r *http.Request) error {
	if s.dbsc == nil {
		return nil
	}
	_, err := s.dbsc.Offer(w, r)
	return err
}

// dbscRequired reports whether r's session is bound and r lacks its bound
// cookie (the sign-in page then shows the form).
func (s *Server) dbscRequired(r *http.Request) bool {
	return s.dbsc != nil && s.dbsc.Required(r)
}

// deviceBinding reads a listed session's binding for sessionJSON.
func deviceBinding(info tether.SessionInfo, j *sessionJSON) {
	st := dbsc.StatusOf(info.Values)
	j.DeviceBound = st.Bound
	if !st.Since.IsZero() {
		j.DeviceBoundSince = &st.Since
	}
}

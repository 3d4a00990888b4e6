package dbsc

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tetherhq/tether"
)

// Enforce returns middleware, run inside the Manager's Handler, that
// refuses a bound session presented without its bound cookie: once a
// browser registered, a request carrying the session cookie must also
// carry a bound cookie that verifies for the session's binding and whose
// signed expiry has not passed. Otherwise the request is answered by
// Config.Refuse (401 JSON by default), a dbsc_required event is emitted
// (attribute "reason": missing, expired, invalid or duplicate) and the
// session's periodic renewal is held back (a thief must not get a fresh
// session cookie from a refused request). The session itself is not
// ended: its browser refreshes the bound cookie and goes on.
//
// For [RegistrationGrace] after the registration, a request with no bound
// cookie at all is let through (the browser may have sent it before the
// registration's answer arrived); a present but invalid or expired one is
// refused at once.
//
// Let through unchanged: requests without a session cookie, sessions that
// were never bound (browsers without DBSC, plain HTTP), Config.RefreshPath
// and Config.Exempt (the logout route), and a session that could not be
// loaded (the Manager answers the store outage with 503 itself).
//
// Cost: the check reads the binding from the record the request loads (for
// a request with a session cookie, this middleware loads it if the handler
// would not have) and verifies one HMAC per configured secret at most; it
// makes no store call of its own.
func (b *Binder) Enforce(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.exempt[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		verdict := b.check(r)
		if verdict == cookieOK {
			next.ServeHTTP(w, r)
			return
		}
		if s, ok := b.m.Lookup(r.Context()); ok {
			s.SkipRenewal()
		}
		b.m.Emit(r, tether.EventDBSCRequired, slog.String("reason", string(verdict)))
		b.cfg.Refuse(w, r)
	})
}

// Required reports whether [Binder.Enforce] would refuse r (whatever its
// path): its session is bound and it lacks a valid bound cookie. A sign-in
// page uses it to show the form, rather than "signed in already", to such
// a request. It emits nothing and makes no store call beyond the session's
// load.
func (b *Binder) Required(r *http.Request) bool { return b.check(r) != cookieOK }

// check judges the request's bound cookie against its session's binding.
func (b *Binder) check(r *http.Request) cookieVerdict {
	s, ok := b.m.Lookup(r.Context())
	if !ok || !s.HasCookie() || s.Err() != nil {
		return cookieOK
	}
	raw := s.BindingValue(KeyBinding)
	if raw == nil {
		return cookieOK
	}
	bd, _, bad := bindingOf(raw)
	if bad {
		return cookieInvalid // an unreadable binding fails closed
	}
	now := b.m.Now()
	v := b.cookie.check(r, bd.ID, now)
	if v == cookieMissing && now.Before(time.Unix(bd.At, 0).Add(RegistrationGrace)) {
		return cookieOK // a request sent before the registration's answer arrived
	}
	return v
}

// RegistrationGrace is how long after a registration [Binder.Enforce] still
// lets through a request of the session that carries no bound cookie at
// all: the browser registers in the background, so a request it sent (an
// API call right after sign-in, say) while the registration was on its way
// may arrive after the binding was stored and before the browser had the
// cookie. It costs nothing against a thief: until the registration, a
// copied session cookie worked anyway, and a bound cookie that is present
// but expired or forged is refused at once, grace or not.
const RegistrationGrace = 5 * time.Second

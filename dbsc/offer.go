package dbsc

import (
	"net/http"
	"strconv"

	"github.com/tetherhq/tether"
)

// Offer adds a registration offer to the response w is about to send:
//
//	Secure-Session-Registration: (ES256 RS256);path="/dbsc/register";challenge="…"
//
// Call it on the response to a successful sign-in, after
// [tether.Session.Login] (every login drops the previous binding, so the
// new session is offered afresh), before the response starts. It offers
// once per session, and only when the request can register:
//
//   - over HTTPS (Config.Scheme); over plain HTTP nothing is offered, and
//     the session works unbound, as for a browser without DBSC;
//   - to a signed-in session that is not bound and was not offered yet
//     (a page that offered on every response would make Chromium register
//     again on each one, favicon included).
//
// It reports whether it offered. An error means the challenge could not be
// kept (a store outage, reported by the session's load error): the caller
// answers it as any session error, or ignores it and leaves the session
// unbound.
func (b *Binder) Offer(w http.ResponseWriter, r *http.Request) (bool, error) {
	if b.cfg.Scheme(r) != "https" {
		return false, nil
	}
	s, ok := b.m.Lookup(r.Context())
	if !ok {
		return false, tether.ErrNoSession
	}
	if err := s.Err(); err != nil {
		return false, err
	}
	if s.UserID() == "" || s.BindingValue(KeyBinding) != nil || s.BindingValue(KeyOffered) != nil {
		return false, nil
	}
	ch, err := b.challenges(s).Issue(r.Context())
	if err != nil {
		return false, err
	}
	v, err := Offer{Path: b.cfg.RegisterPath, Challenge: ch}.HeaderValue()
	if err != nil {
		return false, err // a path New accepted always serializes
	}
	if err := s.SetBindingValue(KeyOffered, []byte(strconv.FormatInt(b.m.Now().Unix(), 10))); err != nil {
		return false, err
	}
	w.Header().Set(HeaderRegistration, v)
	return true, nil
}

// challenges returns the challenge issuer of the request's session.
func (b *Binder) challenges(s *tether.Session) *Challenges {
	return &Challenges{Store: sessionChallenges{s: s, now: b.m.Now}, TTL: b.cfg.ChallengeTTL, Now: b.m.Now}
}

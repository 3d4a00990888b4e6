package tether

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
)

// ErrInvalidCookie is returned by [Manager.Load] for a cookie value that is
// empty, malformed or not signed by any of [Config.Secrets]: the caller
// presented no session at all. Such a value never reaches the store. It
// also matches [ErrNotAuthenticated] under errors.Is, so [StatusOf]
// answers 401 and code that handles "not signed in" needs no extra case.
var ErrInvalidCookie error = invalidCookieError{}

type invalidCookieError struct{}

func (invalidCookieError) Error() string {
	return "tether: not a valid session cookie value (empty, malformed, or not signed by any of Config.Secrets); the client must sign in again"
}

func (invalidCookieError) Is(target error) bool { return target == ErrNotAuthenticated }

// ErrAlreadySaved is returned by a second [Session.Save] of a Session from
// [Manager.Load]. A loaded Session is one unit of work: load it again, with
// the cookie value Save returned, for the next one.
var ErrAlreadySaved = errors.New("tether: session already saved; call Manager.Load again, with the cookie value Save returned, for the next unit of work")

// errNotLoaded: Save on a Session that the middleware manages.
var errNotLoaded = errors.New("tether: Session.Save is for sessions from Manager.Load; the middleware saves its own sessions before the response starts")

// outsideKey marks the made-up request of a Session from Load.
type outsideKey struct{}

// outside is the state Save needs beyond the Session's own.
type outside struct {
	saved atomic.Bool
	value string // the cookie value Load was given
}

// Load loads the session named by cookieValue (the value of the session
// cookie, as a browser sends it and as [Session.Save] returns it) for code
// that runs outside an HTTP request: WebSocket message loops, server-sent
// event streams, gRPC interceptors, background jobs. Use the returned
// Session's data API as in a handler ([Session.Get], [Session.Set],
// [Session.Incr], [Session.Login], [Session.Logout]…), then save it with
// [Session.Save]. It is [Manager.LoadRequest] without an origin request, so
// its events carry no client IP or user agent.
//
// The request's own code paths run unchanged (on a request made up for
// them), so the guarantees are the middleware's:
//
//   - a forged, malformed or oversized value is refused before any store
//     call, and never logged;
//   - an expired session does not load (it is deleted), and a live one has
//     its idle deadline refreshed by the load;
//   - changes are saved as a [Patch] of the changed keys and [Session.Incr]
//     is atomic in the store, so a message loop and the browser's requests
//     never lose each other's changes;
//   - a session ended meanwhile (a logout in another tab, a revocation) is
//     never re-created: Save returns [ErrSessionEnded].
//
// Errors:
//   - [ErrInvalidCookie]: cookieValue is empty, malformed or forged (an
//     [EventSessionRejected] event with reason bad_signature is emitted for
//     a non-empty one). No store call is made.
//   - [ErrCookieTooLarge]: cookieValue is longer than
//     [Config.MaxCookieBytes]. No store call is made.
//   - [ErrSessionEnded]: the value is authentic but names no live session
//     (logged out, revoked, expired: an expired record is deleted and an
//     [EventIdleTimeout] or [EventAbsoluteTimeout] emitted). The session is
//     not re-created; the client must sign in again.
//   - an error wrapping [ErrStoreUnavailable]: the store could not answer.
//     The session may still be live; retry later.
//
// A loaded Session is one unit of work (one WebSocket message, one job):
// Load, use, Save once, and Load again with the value Save returned for the
// next. Each Load reads the record afresh, so changes made meanwhile by the
// browser's requests are seen, and a session ended meanwhile is refused
// instead of written to. Like a request's Session, it may be used from
// several goroutines of its unit of work; after Save, the methods that
// would change it return [ErrResponseStarted]. [NewContext] attaches it to
// a context for code that calls [FromContext] (a gRPC interceptor's
// handler).
//
// Renewal ([Config.RenewInterval]): Load checks the value's renewal secret
// as a request does (a secret the session never had ends it, with
// [EventTokenReuse]), but never renews: only an HTTP response can hand the
// browser its new cookie, and a browser left with the old one would be
// taken for a thief after the grace. A value that the browser's own
// requests renewed meanwhile still loads for [Config.RenewGrace]; after
// that Load returns [ErrSessionEnded] (session_rejected, reason
// renewed_token) and leaves the browser's session alone: end the loop, and
// let the client reconnect with the cookie it holds now.
//
// Cost: one store call to load (which also refreshes the idle deadline);
// each [Session.Incr] one more; Save none without changes, one with
// changes, and for a Login or Regenerate what a request spends on it.
func (m *Manager) Load(ctx context.Context, cookieValue string) (*Session, error) {
	return m.LoadRequest(ctx, nil, cookieValue)
}

// LoadRequest is [Manager.Load] for work that comes from an HTTP request:
// the WebSocket handshake, the SSE request. origin, which may be nil, gives
// the security events of the load and of the save its client IP
// ([Config.ClientIP]) and user agent. Only its headers and address are
// read: its own cookies are ignored (the session is the one cookieValue
// names, see [Manager.RequestCookie] to read it) and ctx is used instead of
// its context, so it may be a request whose connection has been hijacked.
func (m *Manager) LoadRequest(ctx context.Context, origin *http.Request, cookieValue string) (*Session, error) {
	if ctx == nil {
		return nil, errors.New("tether: Manager.Load needs a non-nil context")
	}
	o := &outside{value: cookieValue}
	ctx = context.WithValue(ctx, outsideKey{}, o)
	var req *http.Request
	if origin != nil {
		req = origin.Clone(ctx)
		req.Body = http.NoBody
	} else {
		var err error
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, "/", nil); err != nil {
			return nil, err
		}
	}
	switch {
	case cookieValue == "":
		return nil, ErrInvalidCookie
	case len(cookieValue) > m.cfg.MaxCookieBytes:
		m.emit(req, nil, EventSessionRejected, slog.String("reason", reasonOf(ErrCookieTooLarge)))
		return nil, ErrCookieTooLarge
	}
	// Verified here, before anything else, so that a forged value can reach
	// neither the store nor the header below (a verified value is base64url
	// and one dot: nothing that could smuggle a second cookie in).
	if _, _, _, ok := m.signer.verify(cookieValue); !ok {
		m.emit(req, nil, EventSessionRejected, slog.String("reason", "bad_signature"))
		return nil, ErrInvalidCookie
	}
	req.Header.Set("Cookie", m.cfg.CookieName+"="+cookieValue)

	s := &Session{m: m, r: req}
	if err := s.start(); err != nil {
		return nil, err
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if s.IsNew() {
		return nil, ErrSessionEnded
	}
	return s, nil
}

// RequestCookie returns r's session cookie value, "" if it has none, with
// the middleware's checks: [ErrDuplicateCookie] for a request that carries
// two (cookie tossing: never pick one) and [ErrCookieTooLarge] for an
// oversized one. Use it to hand the cookie of a WebSocket handshake or an
// SSE request to [Manager.LoadRequest]; r.Cookie would silently pick the
// first of two.
func (m *Manager) RequestCookie(r *http.Request) (string, error) {
	return m.readCookie(r)
}

// NewContext returns a copy of ctx that carries s, so that [FromContext],
// [Lookup] and s's Manager's [Manager.FromContext] find it there: code
// written for handlers then works unchanged on a Session from
// [Manager.Load] (a gRPC interceptor loads the session, passes
// NewContext(ctx, s) to the handler, then saves it). A request's own
// Session is in its request's context already. It panics if s is nil.
func NewContext(ctx context.Context, s *Session) context.Context {
	if s == nil {
		panic("tether: NewContext with a nil Session")
	}
	return &sessionCtx{Context: ctx, s: s}
}

// Save saves the changes of a Session from [Manager.Load] as one [Patch]
// (no store call when there are none), or carries out its Login,
// Regenerate or Logout, and returns the cookie value that names the session
// from now on: the one Load was given, unless the token changed (Login,
// Regenerate, Reauthenticate, ChangeRole) or the value was signed by an
// older secret (it is re-signed with the current one). Use the returned
// value for the next Load. Store calls use ctx.
//
// It returns "" and nil after [Session.Logout] or [Session.Destroy] (the
// record is deleted), and "" and [ErrSessionEnded] when the session ended
// meanwhile: it is not re-created and none of the changes are saved. On a
// store failure (an error wrapping [ErrStoreUnavailable]) it returns the
// value Load was given, which still names the session as it was before
// Save. A second Save returns [ErrAlreadySaved]; Save on a Session from the
// middleware returns an error (the middleware saves those itself).
//
// A new token reaches only the caller: a browser whose session is rotated
// outside HTTP still holds the old cookie, which no longer works. Rotate
// tokens in ordinary HTTP requests, or deliver the new value to the client
// in a Set-Cookie of a later HTTP response.
func (s *Session) Save(ctx context.Context) (string, error) {
	if s == nil || ctx == nil {
		return "", errors.New("tether: Session.Save needs a Session from Manager.Load and a non-nil context")
	}
	s.mu.Lock()
	var o *outside
	if s.r != nil {
		o, _ = s.r.Context().Value(outsideKey{}).(*outside)
	}
	if o == nil {
		s.mu.Unlock()
		return "", errNotLoaded
	}
	if !o.saved.CompareAndSwap(false, true) {
		s.mu.Unlock()
		return "", ErrAlreadySaved
	}
	// The store calls of commit take their context from the request:
	// give it Save's.
	s.r = s.r.WithContext(context.WithValue(ctx, outsideKey{}, o))
	s.mu.Unlock()

	err := s.commit()

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case errors.Is(err, ErrSessionEnded) || s.ended:
		return "", ErrSessionEnded
	case err != nil:
		return o.value, err
	case s.destroyed || !s.exists:
		return "", nil
	case s.key == s.candKey && s.candValue != "":
		return s.candValue, nil
	}
	if s.key == s.candKey {
		s.m.emit(s.r, s, EventSessionResigned)
	}
	return s.m.signer.sign(s.token, s.rn.secret), nil
}

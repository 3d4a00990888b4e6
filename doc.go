// Package tether is secure server-side session management for net/http.
//
// A session is a random 256-bit token in a signed cookie and a record on the
// server, stored under SHA-256 of the token. The cookie carries nothing but
// the token, a renewal secret (see [Config.RenewInterval]) and their HMAC;
// everything else (values, user, deadlines) lives in
// a [Store]: memstore for tests, sqlitestore embedded, redisstore for many
// instances.
//
// # Use
//
// Create one [Manager] at start-up with [New] and wrap the application with
// [Manager.Handler]:
//
//	m, err := tether.New(tether.Config{
//		Store:      store,            // e.g. sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//		Secrets:    [][]byte{secret}, // ≥ 32 random bytes; add old ones to rotate
//		Production: true,             // Secure + __Host-sid
//	})
//	if err != nil {
//		log.Fatal(err) // misconfiguration fails here, every problem at once
//	}
//	http.ListenAndServe(addr, m.Handler(mux))
//
// In a handler, [FromContext] returns the request's [Session]:
//
//	s := tether.FromContext(r.Context())
//	n, err := s.Incr(r.Context(), "views", 1) // atomic in the store
//	err = s.Set("theme", "dark")              // saved before the response starts
//	theme := s.GetString("theme")
//	err = s.Login(user.ID, user.Role)         // new token, the old one dead at once
//	s.Logout()                                // record deleted, cookie expired
//
// Package csrf adds the CSRF check, package secheaders the security
// headers, package audit a JSON log of the security [Event]s.
//
// # A request, step by step
//
// The files of this package follow a request in order:
//
//   - middleware.go: [Manager.Handler] reads the cookie (refusing duplicate
//     and oversized ones), verifies its signature (token.go) and attaches a
//     [Session], which [FromContext] (or, with several Managers,
//     [Manager.FromContext]) returns; writer.go saves the session just before
//     the first byte of the response, a Flush, or a Hijack (WebSockets).
//   - lifecycle.go: the session is loaded on first use (one store call,
//     which also refreshes the idle deadline); commit.go: it is committed
//     at the end: created, patched, rotated or destroyed.
//   - session.go: the data API ([Session.Get], [Session.Set],
//     [Session.Remove], [Session.Incr], [Session.Err]); getters.go: the typed
//     getters and how values are encoded (JSON); flash.go: [Session.Pop] and
//     the flash messages ([Session.AddFlash], [Session.Flashes]).
//   - auth.go: [Session.Login], [Session.Regenerate],
//     [Session.Reauthenticate], [Session.ChangeRole], [Session.Destroy],
//     [Session.Logout].
//   - cookie.go and cookiemode.go: the Set-Cookie header and the cookie modes
//     ([CookieRolling], [CookieSession], [CookiePersistent],
//     [Session.SetPersistent] for "remember me").
//   - renew.go: periodic renewal of the cookie's secret, and theft
//     detection ([Config.RenewInterval], [EventTokenReuse]).
//   - users.go: a user's sessions across devices ([Manager.UserSessions],
//     [Manager.EndUserSessions], [Session.EndOtherSessions]); purge.go:
//     every session at once ([Manager.EndAllSessions], the optional
//     [Purger]).
//   - outside.go: a session outside an HTTP request, by its cookie value
//     ([Manager.Load], [Session.Save]): WebSocket message loops, gRPC,
//     background jobs.
//   - store.go: the [Store] contract and the optional [UserIndex] and
//     [Pinger]; errors.go and httperror.go: every error and its HTTP status
//     ([StatusOf]); events.go: every security event name.
//   - encrypt.go, encstore.go and encstore_cas.go: encryption at rest
//     ([Config.EncryptionKeys], [EncryptStore]): the sealed value format
//     and keys, the Store wrapper, and increments and compare-and-set on
//     values the store holds encrypted.
//
// # Values
//
// Values are stored as JSON: [Session.Set] accepts anything encoding/json
// encodes, and [Session.Get] decodes into any type; the typed getters
// (GetString, GetInt, GetFloat64, GetTime, GetBytes…) return the zero value
// for a missing key or another type. Changes are saved as a patch of the
// changed keys, so concurrent requests never lose each other's changes, and
// [Session.Incr] is atomic in the store. A change after the response started
// returns [ErrResponseStarted]; keys starting with [ReservedKeyPrefix] are
// tether's own.
//
// # Errors
//
// [StatusOf] maps every error to its status: a store that cannot be reached
// is 503 ([ErrStoreUnavailable], never a silent logout), bad input from the
// client is 4xx, and a programming mistake is 500. [Session.Err] tells a
// handler that its session could not be loaded.
//
// # Threat model and guarantees
//
//   - Forged or tampered cookies fail an HMAC-SHA256 check (constant-time,
//     against every configured secret) and never reach the store; they are
//     reported as [EventSessionRejected].
//   - Session fixation: [Session.Login] and [Session.Regenerate] issue a new
//     token and delete the old record before the response is sent. A login
//     of a different user than the session's (an anonymous session
//     included) starts with no values, so nothing planted in the session
//     before it (a CSRF token, a cart, a flash) reaches the authenticated
//     one; every login, [Session.Reauthenticate] and [Session.ChangeRole]
//     drops the values under [LoginScopedKeyPrefix], where package csrf
//     keeps its token.
//   - Stolen cookies: HttpOnly, SameSite=Lax, Secure and the __Host- prefix
//     in production; idle and absolute deadlines kept on the server, never
//     read from the cookie; [Session.Destroy] deletes the record. The
//     cookie's secret is renewed every [Config.RenewInterval]; a replaced
//     one presented after [Config.RenewGrace] ends the session for both
//     holders ([EventTokenReuse]).
//   - Store dumps: records are keyed by SHA-256 of the token, so a copy of
//     the store yields no usable cookie. Events carry a public ID
//     ([Manager.PublicID]), never a token, cookie value, store key or secret.
//   - Lost updates and resurrection: changes are saved as a [Patch] of the
//     changed keys, applied only while the record still exists;
//     [Session.Incr] is atomic in the store.
//   - Cookie tossing: a request with two session cookies is refused (400,
//     [ErrDuplicateCookie]).
//   - Logout and [Session.Destroy] expire the session cookie only: no
//     Clear-Site-Data header, which would wipe every cookie of the site
//     (a device cookie that protects the user from lockout, sibling
//     applications' cookies). A "sign out everywhere" or a disabled account
//     may send it deliberately.
//   - Store outages answer 503 ([ErrStoreUnavailable]) and never look like a
//     logout.
//   - Store flooding: any client makes the server store an anonymous
//     session with one cookieless request. Sessions that never logged in
//     live [Config.AnonymousIdleTimeout] (5 minutes by default) instead of
//     the full idle timeout, and [Config.AllowCreate] can refuse new ones
//     (429, [ErrCreateLimited]); the reference server allows a number per
//     client IP and minute. idle.go and createlimit.go hold both.
//
// # Cost
//
// A request without a valid signed cookie, or whose handler never uses its
// session, costs no store call. A request that reads its session costs one
// Load (which also refreshes the idle deadline); a change costs one more
// call; when the first use is [Session.Incr], loading and incrementing are
// one call. A login costs a Create and a Delete. [Config.AllowCreate] costs
// what it does (one Redis script call for the reference server's limit
// with Redis), and only on a request that stores a new anonymous session.
//
// # Concurrency
//
// A [Manager] is safe for concurrent use. A [Session] belongs to one request:
// its methods may be called from several goroutines of that request, not
// after the handler has returned. Concurrent requests on one session never
// lose each other's changes to different keys, nor an increment.
//
// # Caching
//
// Every response that carries or depends on a session gets
// Cache-Control: no-store and Vary: Cookie.
package tether

// Package dbsc is the protocol core of Device Bound Session Credentials
// (W3C webappsec-dbsc draft, February 2026; Chrome 145+ on desktop): header
// builders and strict parsers, verification of the browser's signed
// proofs, single-use challenges and the registration answer; and the
// [Binder], which wires it into tether sessions (where the key and
// challenges are stored, the bound cookie, enforcement, events). It uses
// only the standard library and the root package tether (itself standard
// library only).
//
// # Protocol
//
//  1. Offer. A response to a signed-in browser carries, once per session,
//     Secure-Session-Registration: (ES256 RS256);path="/dbsc/register";challenge="…"
//     ([Offer], challenge from [Challenges.Issue]).
//  2. Registration. The browser makes a key pair and POSTs to path, with
//     its cookies and Secure-Session-Response: a JWT whose header is
//     {"alg":"ES256"|"RS256","typ":"dbsc+jwt","jwk":{public key}} and whose
//     payload is {"jti":"<challenge>"} (plus "authorization" when offered).
//     [ProofJWT] reads it, [VerifyRegistration] checks it,
//     [Challenges.Consume] uses the challenge up. The server stores the
//     key ([PublicKey.MarshalJSON]) with the session and answers 200 with
//     [Instructions] JSON (session_identifier from [NewSessionIdentifier],
//     refresh_url, scope, the bound cookie's name and attributes) and the
//     short-lived bound cookie in an ordinary Set-Cookie.
//  3. Refresh. When the bound cookie is missing or about to expire (Chrome:
//     120 s before), the browser POSTs to refresh_url with
//     Sec-Secure-Session-Id ([SessionID]). Without a proof the server
//     answers 403 with Secure-Session-Challenge: "<c>";id="<id>"
//     ([ChallengeHeaderValue]); the browser retries at once with a proof
//     signed by the registered key, without jwk ([VerifyRefresh]). A 200
//     with a new bound cookie (new value, new challenge next time)
//     completes it.
//
// # Threat model
//
// DBSC is against cookie theft after sign-in: an infostealer that copies
// the browser's cookie jar, a leaked HAR file, a cookie logged by a proxy.
// The private key stays with the browser (in a TPM on Windows; in software
// in Debian's Chromium and on platforms without one), and no request
// carries it.
//
//   - A thief with the session cookie alone is refused at once on a bound
//     session (the caller enforces: no valid bound cookie, no session).
//   - A thief with both cookies can use them until the bound cookie
//     expires: at most its lifetime (SESSION_DBSC_COOKIE_TTL, default
//     10 minutes), which the server must check from its own record of the
//     expiry, never from the cookie's Max-Age. After that a refresh needs
//     a proof by the private key, which the thief cannot make: the session
//     stays with the device.
//   - Not covered: malware present at registration (it can register its
//     own key, or sign in again and do so); malware running with the
//     browser (it can send requests through it, and ask the key, even a
//     TPM's, to sign for it; with a software key it can copy the key);
//     browsers without DBSC, whose sessions keep working unbound and
//     unprotected.
//
// The cookie lifetime must sit well above Chrome's 120 s refresh lead and
// its signing quota (6 signatures per 9 minutes per site): 10 minutes
// means one signature about every 8 minutes.
//
// # Failure rules (what the browser does with the refresh answer)
//
//   - A network error, 5xx, 407 or 429 keeps the browser's DBSC session: it
//     retries later. Answer 503 when the store is unreachable and 429 when
//     rate limiting, never 4xx.
//   - 403 on a refresh means "sign this challenge": send
//     Secure-Session-Challenge with it. Answer 403 with a fresh challenge
//     to a refresh without a proof and to a proof whose challenge is
//     unknown, used or expired (Chromium may resend a cached proof after a
//     transient failure; it gives up after 5 challenges). On a
//     registration Chromium treats 403 as a failure like any 4xx: the
//     registration fails and the session stays unbound, working as before.
//   - Any other 4xx ends the browser's DBSC session, and a 200 with
//     [EndSession] JSON does too: answer it to a malformed proof, a bad
//     signature, a key that is not the registered one, and a session
//     that is gone. The session cookie then fails enforcement and the user
//     signs in again.
//
// A successful refresh answers 200 with the new bound cookie; its body may
// be empty (no change to the instructions). The registration answer
// carries no Secure-Session-Challenge: the browser would cache it for a
// refresh minutes away, so it would have to live as long as the cookie;
// the 403 round trip costs one request and keeps challenges at 2 minutes.
// Every refresh rotates both the bound cookie's value and the challenge.
//
// Consume the challenge only once the proof's signature verified (a forged
// proof must not burn the browser's challenge), and issue the new cookie
// only once the challenge was consumed.
//
// # Decisions
//
// Older Chrome form. Chrome's origin trials (before 145) sent typ "jwt"
// with the key in a "key" claim and aud and iat claims. It is refused
// (ErrType): Chrome 145+ and Debian's Chromium 156 send the draft's form;
// accepting two places for the key doubles the ways a key can be
// misread, and typ "jwt" is the generic type that a JWT minted for another
// purpose also carries, which "dbsc+jwt" exists to tell apart. A browser
// that sends the old form fails registration and keeps an unbound
// session that works as before: nothing breaks, it is just not protected.
//
// Header forms. The draft makes Sec-Secure-Session-Id and
// Secure-Session-Response sf-strings ("s1"); Chromium sends them bare (s1).
// Both forms are read, strictly as RFC 8941 Items (an sf-string or an
// sf-token, parameters checked and ignored); nothing else is. Session
// identifiers from [NewSessionIdentifier] are tokens, so both forms carry
// them unchanged.
//
// Strictness. Proofs are at most [MaxProofBytes] (8 KiB); base64url is
// unpadded with no stray bytes; JSON objects have no repeated or
// case-variant key and nothing after them; the header has no crit; RSA keys
// are 2048 to 4096 bits with exponent 65537; ES256 signatures are raw r||s
// of 64 bytes on P-256. Errors never quote the input.
//
// # Storage of challenges
//
// [ChallengeStore] keeps a session's outstanding challenges. The rule for
// a store that lives in the session's values: one reserved key per
// challenge ([ChallengeKey], under tether's "_tether." prefix, holding the
// challenge's SHA-256 digest and expiry), written and removed by patches
// that touch only that key, and never a shared list or "current challenge"
// value. Concurrent requests on one session then cannot merge a challenge
// away or bring a used one back, and a Take that is atomic on its key lets
// exactly one of two concurrent refreshes with one proof succeed
// ([TakeIncrement] and [TakenExpiry] make that take an increment, which
// every tether store applies atomically). [MemoryChallenges] is the in-process reference, bounded to 16
// outstanding challenges.
//
// # Wiring into tether sessions: the Binder
//
// [New] builds a [Binder] from a *tether.Manager; the application mounts
// [Binder.Register] and [Binder.Refresh] (inside the Manager's Handler,
// exempt from its CSRF token check), wraps its routes in [Binder.Enforce],
// and calls [Binder.Offer] on the sign-in response after Session.Login:
//
//	b, err := dbsc.New(m, dbsc.Config{Exempt: []string{"/logout"}})
//	mux.HandleFunc("POST /dbsc/register", b.Register)
//	mux.HandleFunc("POST /dbsc/refresh", b.Refresh)
//	handler := m.Handler(b.Enforce(mux))
//
// State. Everything lives in the session's values under
// tether.DeviceBindingKeyPrefix, one key per concern ([KeyBinding]: the
// identifier and registration time, which enforcement reads; [KeyPublicKey],
// which refreshes read, both written once in one patch; [KeyOffered];
// [KeyRefreshed]; one [ChallengeKey] per challenge), each written by a
// patch of those keys alone, so it is in every store, shared by every
// instance, and no concurrent request can merge it away. A login drops it
// (the new session is unbound and offered afresh); renewal, Regenerate,
// Reauthenticate and ChangeRole keep it (same browser, same key); logout
// and revocation delete it with the session.
//
// The bound cookie. Its name is the session cookie's plus
// [BoundCookieSuffix] ("__Host-sid-dbsc" in production), with the session
// cookie's Path, Domain and SameSite, always Secure and HttpOnly, Max-Age
// Config.CookieTTL (default 10 minutes, at least 10 seconds). Its value is
// base64url(expiry || nonce) "." HMAC-SHA256 over the binding's identifier,
// the server-chosen expiry and a 16-byte random nonce, keyed by
// Manager.DeriveKeys("tether/dbsc/cookie/v1"): checking it costs no store
// call (the binding comes with the session the request loads), the
// expiry checked is the signed one (never the Max-Age, which the client
// controls), a cookie of another binding does not verify, and rotated
// secrets keep verifying as they do for session cookies. It is compared
// with hmac.Equal.
//
// Decisions.
//
//   - Development over plain HTTP: nothing is offered (Config.Scheme
//     decides; behind a TLS proxy pass the trusted X-Forwarded-Proto
//     reader). Chromium registers only from a secure context whose
//     certificate it trusts (over http://localhost and with certificate
//     errors it ignores the offer), and the bound cookie must be Secure; a
//     session over HTTP stays unbound and works as before.
//   - Offered once per login: the flag is [KeyOffered]. A thief holding
//     the cookie of an unbound session (a browser without DBSC) cannot get
//     an offer, so cannot bind the victim's session to its own key and
//     lock the victim out. Chromium processes the header on any response,
//     redirects included, so the 303 of a form sign-in carries it too.
//   - Registration refusals answer 401 (no signed-in session), 409 (bound
//     already), 400 (a bad proof) or 403 (an unknown, used or expired
//     challenge), and 503 on a store outage; all leave the session as it
//     was, unbound and working. They emit dbsc_refresh_failed with step
//     "register", so one alert covers both steps.
//   - Enforcement refuses with Config.Refuse (401 JSON by default; a server
//     with pages sends a page request to its sign-in page) and holds back
//     the session's periodic renewal for that request
//     (Session.SkipRenewal), so a thief gets no fresh session cookie from
//     a refusal. It does not end the session: its browser refreshes and
//     goes on. Exempt are Config.RefreshPath and Config.Exempt, where the
//     logout route belongs: ending a session must stay possible for a
//     browser whose refresh failed, and a thief who can only end the
//     stolen session gains nothing. (The reference server also exempts
//     its sign-in routes, so that signing in again is always possible.)
//   - For [RegistrationGrace] (5 s) after a registration, a request with no
//     bound cookie at all passes enforcement: Chromium registers in the
//     background, so a request it sent meanwhile may arrive after the
//     binding was stored but without the cookie. A thief gains nothing: a
//     copied session cookie worked until the registration anyway.
//   - A refresh answers 200 with the instructions again and the new
//     cookie; a session that is gone, unbound or under another identifier
//     401, which ends the browser's DBSC session; a thief's refresh
//     attempts never end the binding, the real browser refreshes after
//     them. Outstanding challenges are bounded ([MaxChallenges]; 429
//     beyond, which the browser retries).
//
// # Concurrency
//
// Every function is safe for concurrent use. [Challenges] is as safe as its
// store; [MemoryChallenges] is safe for concurrent use.
package dbsc

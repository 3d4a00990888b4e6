// Package tether is secure server-side session management for net/http.
//
// A session is a random 256-bit token in a signed cookie and a record on the
// server, stored under SHA-256 of the token. The cookie carries nothing but
// the token and its HMAC; everything else (values, user, deadlines) lives in a
// Store: memstore for tests, sqlitestore embedded, redisstore for many
// instances.
//
// # Use
//
//	m, err := tether.New(tether.Config{
//		Store:      store,                  // e.g. sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//		Secrets:    [][]byte{secret},       // ≥ 32 random bytes; add old ones to rotate
//		Production: true,                   // Secure + __Host-sid
//	})
//	if err != nil { log.Fatal(err) }        // misconfiguration fails here
//	http.ListenAndServe(addr, m.Handler(mux))
//
// and in a handler:
//
//	s := tether.FromContext(r.Context())
//	n, err := s.Incr(r.Context(), "views", 1) // atomic in the store
//	s.Login(user.ID, user.Role)               // new token, old one dead at once
//	s.Logout()                                // record deleted, cookie expired
//
// # Threat model and guarantees
//
//   - Forged or tampered cookies fail an HMAC-SHA256 check (constant-time,
//     against every configured secret) and never reach the store; they are
//     reported as session_rejected events.
//   - Session fixation: Login and Regenerate issue a new token and delete the
//     old record before the response is sent.
//   - Stolen cookies: HttpOnly, SameSite=Lax, Secure and the __Host- prefix in
//     production; idle and absolute deadlines kept on the server, never read
//     from the cookie; Destroy deletes the record.
//   - Store dumps: records are keyed by SHA-256 of the token, so a copy of the
//     store yields no usable cookie. Events carry a salted handle, never a
//     token, cookie value, store key or secret.
//   - Lost updates and resurrection: changes are saved as a patch of the
//     changed keys, applied only while the record still exists; Incr is
//     atomic in the store.
//   - Cookie tossing: a request with two session cookies is refused (400).
//   - Store outages answer 503 and never look like a logout.
//
// # Cost
//
// A request without a valid signed cookie costs no store call. A request with
// one costs one Load (which also refreshes the idle deadline); a change costs
// one more call; Login costs a Create and a Delete.
//
// # Caching
//
// Every response that carries or depends on a session gets
// Cache-Control: no-store and Vary: Cookie.
package tether

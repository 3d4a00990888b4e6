// Package websocket holds tests, no code: WebSocket servers written with
// github.com/gorilla/websocket and github.com/coder/websocket run behind
// the full middleware stack of a tether app,
//
//	secheaders.Default(…).Handler(m.Handler(p.Handler(mux))) // security headers, session, CSRF check
//
// and are dialled by both libraries' clients. Each upgrade must succeed (the
// writers of secheaders and tether pass Hijack through), the socket handler
// must read the signed-in user from the session, and a change the handler
// makes to the session before the upgrade must be saved (tether saves the
// session when the connection is hijacked).
//
// Two rules for WebSocket handlers that the tests show:
//
//   - Sign in, and create sessions, in ordinary requests. The upgrade
//     request may change an existing session (saved at the hijack), but a
//     session it creates or gives a new token needs its cookie in the
//     handshake: coder/websocket sends the 101 through the response writer,
//     so it carries the cookie; gorilla/websocket writes its own 101 with
//     only the headers passed to Upgrade, so pass w.Header() (Upgrade reads
//     them after the hijack, when tether has put Set-Cookie there), not nil.
//   - The CSRF protector lets GET through, and a WebSocket handshake is a
//     GET: the defence against cross-site WebSocket hijacking is the
//     library's origin check (gorilla's default CheckOrigin,
//     coder's AcceptOptions.OriginPatterns). Keep it on.
//
// After the upgrade the session is not saved again, however long the socket
// lives: a message loop that must change it, or re-check that it still
// exists, loads it by its cookie value (see tether's Manager.Load).
package websocket

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
//     new cookie reaches the client only with coder/websocket, which sends
//     its handshake through the response writer; gorilla/websocket writes
//     its own handshake with only the headers given to Upgrade.
//   - The CSRF protector lets GET through, and a WebSocket handshake is a
//     GET: the defence against cross-site WebSocket hijacking is the
//     library's origin check (gorilla's default CheckOrigin,
//     coder's AcceptOptions.OriginPatterns). Keep it on.
//
// After the upgrade the session is not saved again, however long the socket
// lives: a message loop that must change it, or re-check that it still
// exists, loads it by its cookie value (see tether's Manager.Load).
package websocket

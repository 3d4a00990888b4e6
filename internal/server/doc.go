// Package server holds the reference server's HTTP handlers: the seed
// tutorial's API (/, /views, /csrf-token, /login, /profile, /logout), the
// sensitive actions (/reauth, /password), the user's sessions (/sessions),
// the admin routes (/admin/users/{name}/sessions) and /healthz and /readyz,
// on a tether.Manager.
//
// One concept a file:
//
//	routes.go    Options, Server, New and the route table (Handler)
//	basic.go     /, /views, /csrf-token, /healthz, /readyz
//	auth.go      login, logout, re-authentication, every password check
//	binding.go   the session's context (user agent, network) and its check
//	account.go   /profile, /password, the account re-check and "last seen"
//	sessions.go  GET /sessions, DELETE /sessions/{id}, revoke-others, the cap
//	admin.go     the admin routes
//	device.go    device cookies (login throttling per browser)
//	json.go      request decoding, JSON answers and errors
package server

// Package server holds the reference server's HTTP handlers: the seed
// tutorial's API (/, /views, /csrf-token, /login, /profile, /logout), the
// sensitive actions (/reauth, /password), the user's sessions (/sessions),
// device-bound sessions (/dbsc/register, /dbsc/refresh),
// the admin routes (/admin/users/{name}/sessions, disable, enable), the HTML
// pages for people (/login, /account, /admin) and /healthz and /readyz, on a
// tether.Manager.
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
//	adminusers.go  POST /admin/users/{name}/disable and /enable
//	dbsc.go      device-bound sessions: /dbsc/register, /dbsc/refresh, the
//	             offer on sign-in, enforcement (package dbsc)
//
// The pages (issue 15):
//
//	pages.go       GET /login, /account, /admin and the page guard
//	render.go      embedded templates (templates/) and static files (static/)
//	forms.go       browser form posts: 303 to a page, errors on the page, _method
//	htmlerrors.go  errors to Accept: text/html as HTML pages
//	endreason.go   why a browser's session ended (?reason=, the state cookie)
//	nextpath.go    the sign-in return path (no open redirect)
//	accept.go      does a request prefer HTML to JSON
//	useragent.go   browser and OS for "my devices"
package server

// Package csrf protects state-changing requests from cross-site request
// forgery with two independent checks:
//
//  1. net/http.CrossOriginProtection on every unsafe method (anything but
//     GET, HEAD and OPTIONS): a browser request that Sec-Fetch-Site or the
//     Origin header marks as cross-origin is refused, unless its origin was
//     trusted with [Options.TrustedOrigins]. Requests without either header
//     (curl, server-to-server) pass this check.
//  2. A synchronizer token tied to the session: [Token] issues 256 random
//     bits kept in the tether session; unsafe requests must send it back in
//     the X-CSRF-Token header or the csrf_token form field, compared in
//     constant time. Paths in [Options.Exempt] skip this check only (the
//     reference server exempts /login and /logout, which have no session
//     token yet or whose forgery the origin check already stops).
//
// # Use
//
//	p, err := csrf.New(csrf.Options{Manager: m})
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.ListenAndServe(addr, m.Handler(p.Handler(mux))) // csrf inside the session middleware
//
// A page puts the token in its forms with [Token]:
//
//	<form method="post" action="/transfer">
//	  <input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
//	  …
//
// # Where the token is read
//
// The X-CSRF-Token header is read first; when it is absent, the csrf_token
// field of an application/x-www-form-urlencoded or multipart/form-data body.
// At most [Options.MaxBodyBytes] (1 MiB by default) of the body are read for
// this, and handed back to the handler, so r.ParseForm,
// r.ParseMultipartForm, r.FormFile and r.MultipartReader work as usual after
// the check. A urlencoded form is read whole (a field may be anywhere in it).
// A multipart form is read part by part only until its csrf_token field:
// browsers send fields in document order, so a form whose hidden csrf_token
// input comes before its file inputs costs the check a few hundred bytes,
// whatever the size of the upload, and the file is streamed to the handler
// unread. A csrf_token field after a file that does not end within the limit
// gets 413 ([ErrBodyTooLarge]), saying to move the field or use the header;
// at no point does the check hold more than the limit in memory.
//
// # htmx
//
// An htmx request triggered outside a form (hx-delete on a button, say)
// carries no csrf_token field, so with htmx the token travels in the
// header, for every request. Put it in a meta tag and set the header on
// each htmx request from a script of the page's own origin; with a
// nonce-based Content-Security-Policy (package secheaders), an inline
// script carries the request's nonce:
//
//	<head>
//	  <meta name="csrf-token" content="{{.CSRFToken}}">
//	  <script src="/static/htmx.min.js"></script>
//	  <script nonce="{{.Nonce}}">
//	    document.addEventListener("htmx:configRequest", function (e) {
//	      // Only to this origin: the token must never leave it.
//	      if (new URL(e.detail.path, location.href).origin !== location.origin) return;
//	      e.detail.headers["X-CSRF-Token"] =
//	        document.querySelector('meta[name="csrf-token"]').content;
//	    });
//	  </script>
//	</head>
//
// with .CSRFToken from [Token] and .Nonce from secheaders.Nonce(r), the page
// rendered by html/template (which escapes both). The script may as well
// be a file served from the app (script-src 'self', no nonce needed); what
// CSP forbids is a script, or an htmx copy, from anywhere else. The token
// is the session's and lives until the next login, re-authentication or
// role change (it is kept under [tether.LoginScopedKeyPrefix], which each of
// them drops, so a token fixed before login is worthless after it):
// fragments that htmx swaps in need no new meta tag, and the page that a
// login redirects to, or its next full page, brings the new token.
//
// htmx 2 sends requests only to the page's own origin by default
// (htmx.config.selfRequestsOnly); the script's origin test keeps the token
// at home under htmx 1 too, or with that setting off. htmx 2 also adds an
// inline <style> for its request indicators, which the policy refuses: turn
// it off with
//
//	<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>
//
// and style .htmx-indicator in the app's own stylesheet. The Example_htmx
// function renders such a page and sends an htmx-style request.
//
// # Errors
//
// A refused request gets a csrf_failure event through the tether Manager
// (its reason, path and method; never the token) and the answer of
// [Options.ErrorHandler]: by default [DefaultErrorHandler]'s JSON 403
// {"error":"…"}, 413 for [ErrBodyTooLarge]. An HTML application passes its
// own handler and renders an error page with the status [StatusOf] gives.
// A store outage is not a CSRF failure: the session's token cannot be known,
// so the request is answered through the Manager's error handler
// ([tether.Manager.Error], 503 by default) with no csrf_failure event; a
// request that never passed through Manager.Handler is answered the same way
// (500: a wiring mistake).
//
// # Threat model
//
// An attacker's page makes the victim's browser send requests with the
// victim's cookies. SameSite=Lax stops most of them; check 1 stops the rest
// in every browser since 2023, without trusting any proxy header
// (gorilla/csrf and nosurf had 2025 CVEs from scheme and Referer
// assumptions; this package reads neither); check 2 is defence in depth for
// older browsers and misconfigured proxies. The token never appears in URLs
// or logs, and is compared in constant time. What the package does not stop:
// script running in the app's own origin (XSS reads the token like any
// page script; the Content-Security-Policy of package secheaders is the
// defence), and a sibling subdomain that is trusted with
// [Options.TrustedOrigins]. Reading a form body to find the token is bounded
// by [Options.MaxBodyBytes], so a client cannot make the check hold more
// than that in memory.
//
// # Concurrency
//
// A [Protector] is safe for concurrent use; [Token] and [Protector.Check]
// may run on many requests at once, like the session they use.
package csrf

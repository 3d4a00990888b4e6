// Package htmx is tether behind an htmx page: server-rendered HTML
// (html/template) whose buttons swap fragments, with the session, the CSRF
// token and security headers done the way a browser app needs them.
//
// The wiring, outermost first:
//
//	policy.Handler(m.Handler(p.Handler(mux))) // secheaders, tether session, csrf check
//
// Security headers come first so that every answer, error pages included,
// carries them. The page's scripts run under the Content-Security-Policy of
// secheaders.Default, which allows no inline script without the request's
// nonce: each <script> carries nonce="{{.Nonce}}" ([secheaders.Nonce]).
//
// The CSRF pattern for htmx: the page puts the session's CSRF token in a
// meta tag, and a small nonce'd script adds it to every htmx request as the
// X-CSRF-Token header:
//
//	<meta name="csrf-token" content="{{.CSRF}}">
//	<script nonce="{{.Nonce}}">
//	document.addEventListener("htmx:configRequest", function (e) {
//	  e.detail.headers["X-CSRF-Token"] = document.querySelector('meta[name="csrf-token"]').content;
//	});
//	</script>
//
// The forms also carry the token in a hidden csrf_token field and work
// without JavaScript: a plain form post is answered with a redirect (303) to
// the page, an htmx request (header HX-Request: true) with the fragment to
// swap in. Login drops the session's CSRF token (a token known before the
// login must not work after it) and logout ends the session and its token,
// so both answer HX-Redirect: / and the browser loads a fresh page with a
// fresh token.
//
// This example vendors no JavaScript: download htmx 2 (https://htmx.org)
// and serve it from your own origin as /static/htmx.min.js (script-src
// 'self' allows it). The htmx-config meta tag turns off htmx's injected
// indicator style, which the policy's style-src would block, and lets htmx
// swap the 401 that re-renders the login form with its message.
//
// Routes:
//
//	GET  /         the page: the sign-in form, or the user's name, counter and sign-out
//	POST /login    form username, password: the account panel (401 and the form if wrong)
//	POST /counter  the counter's new value (Session.Incr) as <output id="count">
//	POST /logout   HX-Redirect: / (plain post: 303 to /)
//
// # Real use
//
// The tests use memstore. A server keeps sessions in SQLite (one instance)
// or Redis (several), with a secret of at least 32 random bytes:
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	// or: store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	h, err := htmx.New(m, secheaders.Default(true)) // production: HSTS, upgrade-insecure-requests
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(http.ListenAndServe(":8080", h))
package htmx

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/demo"
	"github.com/tetherhq/tether/secheaders"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tether + htmx</title>
<meta name="csrf-token" content="{{.CSRF}}">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"401","swap":true},{"code":"[45]..","swap":false,"error":true}]}'>
<script src="/static/htmx.min.js" nonce="{{.Nonce}}"></script>
<script nonce="{{.Nonce}}">
document.addEventListener("htmx:configRequest", function (e) {
  e.detail.headers["X-CSRF-Token"] = document.querySelector('meta[name="csrf-token"]').content;
});
</script>
</head>
<body>
<main>
{{if .User}}{{template "account" .}}{{else}}{{template "login" .}}{{end}}
</main>
</body>
</html>
{{define "login"}}<form id="panel" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{with .Error}}<p role="alert">{{.}}</p>{{end}}
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button>
</form>{{end}}
{{define "account"}}<section id="panel">
<p>Signed in as <strong>{{.User}}</strong>.</p>
<form method="post" action="/counter" hx-post="/counter" hx-target="#count" hx-swap="outerHTML">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button>Count</button> {{template "count" .Count}}
</form>
<form method="post" action="/logout" hx-post="/logout">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button>Sign out</button>
</form>
</section>{{end}}
{{define "count"}}<output id="count">{{.}}</output>{{end}}`))

// view is what the templates show.
type view struct {
	CSRF, Nonce string
	User        string // "" when signed out
	Count       int64
	Error       string
}

// New returns the app inside policy's security headers, m's session
// middleware and a CSRF protector. Pass secheaders.Default(true) in
// production. It fails only if the CSRF protector cannot be built; it
// panics, as policy.Handler does, on an invalid policy.
func New(m *tether.Manager, policy secheaders.Policy) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	// viewOf fills what every template needs from the request's session.
	viewOf := func(r *http.Request) (view, error) {
		s := tether.FromContext(r.Context())
		tok, err := csrf.Token(r) // creates the session on first use
		if err != nil {
			return view{}, err
		}
		v := view{CSRF: tok, Nonce: secheaders.Nonce(r), Count: s.GetInt64("count")}
		if s.UserID() != "" {
			v.User = s.GetString("name")
		}
		return v, nil
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		v, err := viewOf(r)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		render(w, http.StatusOK, "page", v)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if !demo.CheckPassword(r.PostFormValue("username"), r.PostFormValue("password")) {
			v, err := viewOf(r)
			if err != nil {
				m.Error(w, r, err)
				return
			}
			v.Error = "Wrong username or password."
			name := "page"
			if isHTMX(r) {
				name = "login"
			}
			render(w, http.StatusUnauthorized, name, v)
			return
		}
		s := tether.FromContext(r.Context())
		// Login issues a new session token (the pre-login one dies at once)
		// and drops the CSRF token with the anonymous values.
		if err := s.Login(demo.UserID, "user"); err != nil {
			m.Error(w, r, err)
			return
		}
		if err := s.Set("name", demo.User); err != nil {
			m.Error(w, r, err)
			return
		}
		if !isHTMX(r) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		// The page's meta tag holds the dropped CSRF token: load a new page.
		w.Header().Set("HX-Redirect", "/")
	})
	mux.HandleFunc("POST /counter", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Err(); err != nil {
			m.Error(w, r, err) // a store outage is a 503, not a signed-out user
			return
		}
		if s.UserID() == "" {
			w.Header().Set("HX-Redirect", "/") // back to the sign-in form
			http.Error(w, "Not signed in", http.StatusUnauthorized)
			return
		}
		n, err := s.Incr(r.Context(), "count", 1) // atomic in the store
		if err != nil {
			m.Error(w, r, err)
			return
		}
		if !isHTMX(r) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		render(w, http.StatusOK, "count", n)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout() // record deleted, cookie expired
		if !isHTMX(r) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		// The page's CSRF token died with the session: load a new page.
		w.Header().Set("HX-Redirect", "/")
		w.WriteHeader(http.StatusOK)
	})
	return policy.Handler(m.Handler(p.Handler(varyHX(mux)))), nil
}

// isHTMX reports whether htmx sent r (and wants a fragment back).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// varyHX marks every response as depending on HX-Request, since a page and a
// fragment share their URLs (caches must not mix them up).
func varyHX(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "HX-Request")
		next.ServeHTTP(w, r)
	})
}

// render executes the template called name into a buffer first, so that a
// template error answers 500 instead of half a page.
func render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

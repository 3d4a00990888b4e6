package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/clientip"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/metrics"
	"github.com/tetherhq/tether/secheaders"
	"github.com/tetherhq/tether/throttle"
)

// Options wires a Server.
type Options struct {
	Manager *tether.Manager
	Users   users.Directory
	// Ready reports whether the server's stores are reachable (for /readyz).
	Ready func(ctx context.Context) error
	// Log receives operational errors (never secrets). Default: discarded.
	Log *slog.Logger
	// Production turns on HSTS and upgrade-insecure-requests in the security
	// headers (package secheaders).
	Production bool
	// TrustedOrigins may make cross-origin unsafe requests (package csrf).
	TrustedOrigins []string
	// Proxy decides the client scheme (TRUST_PROXY); the zero value trusts
	// no proxy header.
	Proxy clientip.Resolver
	// Metrics, when set, records request durations; MetricsOnMain also
	// serves GET /metrics on this handler (otherwise METRICS_ADDR does).
	Metrics       *metrics.Metrics
	MetricsOnMain bool
	// Binding is SESSION_BINDING: "flag" (default), "strict" or "off".
	Binding string
	// ReauthWindow is how recent an authentication sensitive actions need.
	// Default 10 minutes.
	ReauthWindow time.Duration
	// ClientIP returns the client address believed (TRUST_PROXY). Default:
	// the connection's peer.
	ClientIP func(*http.Request) string
	// Throttle limits failed logins; default: in memory, 10 per account and
	// 100 per IP in 15 minutes.
	Throttle *throttle.Limiter
	// MaxPerUser caps a user's concurrent sessions; a login beyond it ends
	// the oldest. Default 10.
	MaxPerUser int
	// HashWait bounds how long a password check waits for one of the
	// hasher's slots (the Argon2id computations that may run at once): a
	// check that would wait longer is answered 429 with Retry-After
	// (rate_limited, limit "hashing") instead of holding its connection
	// until the server's WriteTimeout drops it unanswered. Default 10 s, a
	// third of the reference server's WriteTimeout.
	HashWait time.Duration
	// DeviceKeys sign device cookies (see device.go): the first signs, all
	// verify. Derive them from the session secrets (DeviceKeys does). Nil
	// turns device cookies off: every attempt then counts on its account.
	DeviceKeys [][]byte
	// Templates, when set, holds page templates (layout.html, partials.html, login.html,
	// account.html, admin.html, error.html) that replace the embedded ones
	// of the same name: a deployment's own look. Default: the embedded set.
	Templates fs.FS
	// DBSCOff turns Device Bound Session Credentials off (SESSION_DBSC=off;
	// on by default, see dbsc.go). DBSCCookieTTL is the bound cookie's
	// lifetime (SESSION_DBSC_COOKIE_TTL): default 10 minutes, at least
	// 10 seconds.
	DBSCOff       bool
	DBSCCookieTTL time.Duration
}

// Server is the reference server's HTTP side. It is safe for concurrent use.
type Server struct {
	m            *tether.Manager
	users        users.Directory
	ready        func(ctx context.Context) error
	log          *slog.Logger
	headers      secheaders.Policy // without the document-only headers (splitPolicy)
	docHeaders   []docHeader       // the document-only headers, for apiHeaders
	csrf         *csrf.Protector
	proxy        clientip.Resolver
	production   bool
	plainHTTP    sync.Once
	metrics      *metrics.Metrics
	metricsOn    bool
	binding      string
	reauthWindow time.Duration
	clientIP     func(*http.Request) string
	throttle     *throttle.Limiter
	devices      *deviceCookies
	maxPerUser   int
	hashWait     time.Duration
	seenEvery    time.Duration // seenEvery, shortened by tests

	dbsc   *dbsc.Binder // nil when DBSC is off (dbsc.go)
	pages  *pages       // the HTML pages' templates (render.go)
	signin signinState  // why a browser's session ended (endreason.go)
}

// New returns a Server; Manager and Users are required.
func New(o Options) (*Server, error) {
	if o.Manager == nil || o.Users == nil {
		return nil, errors.New("server: Options.Manager and Options.Users are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Binding == "" {
		o.Binding = "flag"
	}
	if o.Binding != "flag" && o.Binding != "strict" && o.Binding != "off" {
		return nil, errors.New(`server: Options.Binding must be "flag", "strict" or "off"`)
	}
	if o.ReauthWindow == 0 {
		o.ReauthWindow = 10 * time.Minute
	}
	if o.ClientIP == nil {
		o.ClientIP = tether.RemoteIP
	}
	if o.MaxPerUser <= 0 {
		o.MaxPerUser = 10
	}
	if o.HashWait < 0 {
		return nil, errors.New("server: Options.HashWait must not be negative")
	}
	if o.HashWait == 0 {
		o.HashWait = 10 * time.Second
	}
	if o.Throttle == nil {
		o.Throttle = throttle.New(throttle.NewMemory(nil), throttle.Policy{})
	}
	if o.Ready == nil {
		o.Ready = func(context.Context) error { return nil }
	}
	binder, err := newBinder(o, refuseUnbound)
	if err != nil {
		return nil, err
	}
	exempt := []string{"/login", "/logout"}
	if binder != nil {
		// The browser's DBSC requests carry no CSRF token (it sends only
		// its cookies and the proof headers). They stay safe without it:
		// registration and refresh change nothing without a proof signed by
		// a private key the browser holds over a single-use challenge
		// (a cross-site page cannot make one), SameSite keeps the cookies
		// off cross-site requests, and the origin check still runs.
		exempt = append(exempt, dbsc.DefaultRegisterPath, dbsc.DefaultRefreshPath)
	}
	prot, err := csrf.New(csrf.Options{Manager: o.Manager, Exempt: exempt, TrustedOrigins: o.TrustedOrigins})
	if err != nil {
		return nil, err
	}
	devices, err := newDeviceCookies(o.DeviceKeys, o.Production)
	if err != nil {
		return nil, err
	}
	pg, err := newPages(o.Templates)
	if err != nil {
		return nil, err
	}
	headers, docHeaders, err := splitPolicy(secheaders.Default(o.Production))
	if err != nil {
		return nil, err
	}
	return &Server{m: o.Manager, users: o.Users, ready: o.Ready, log: o.Log,
		headers: headers, docHeaders: docHeaders, csrf: prot, proxy: o.Proxy, production: o.Production,
		metrics: o.Metrics, metricsOn: o.MetricsOnMain,
		binding: o.Binding, reauthWindow: o.ReauthWindow, clientIP: o.ClientIP, throttle: o.Throttle,
		maxPerUser: o.MaxPerUser, hashWait: o.HashWait, seenEvery: seenEvery, devices: devices,
		pages: pg, signin: newSigninState(o.Production), dbsc: binder}, nil
}

// Handler returns the server's routes. Session routes sit behind the
// Manager; /healthz and /readyz do not, so probes never touch the store
// through a cookie. With Options.Metrics, a request's route label is the
// pattern of the route that matches it.
func (s *Server) Handler() http.Handler {
	h, patterns := s.routes()
	if s.metrics != nil {
		h = s.metrics.Middleware(h, patterns...)
	}
	return h
}

// routes builds the route table, and returns it with the pattern of every
// route on it ("DELETE /sessions/{id}"), for the metric labels: both come
// from the same router calls.
func (s *Server) routes() (http.Handler, []string) {
	var patterns []string
	app := newRouter(&patterns)
	app.route("GET", "/{$}", s.root)
	app.route("GET", "/views", s.views)
	app.route("GET", "/csrf-token", s.csrfToken)
	app.route("POST", "/login", s.login)
	app.route("GET", "/profile", s.requireAuth(s.profile))
	app.route("POST", "/logout", s.logout)
	app.route("POST", "/reauth", s.requireAuth(s.reauth))
	app.route("POST", "/password", s.requireRecentAuth(s.changePassword))
	app.route("GET", "/sessions", s.requireAuth(s.listSessions))
	app.route("DELETE", "/sessions/{id}", s.requireRecentAuth(s.deleteSession))
	app.route("GET", "/admin/users/{name}/sessions", s.requireAdmin(s.adminListSessions))
	// Its path has the 405 fallback of the GET route above.
	app.handle("DELETE", "/admin/users/{name}/sessions", s.requireRecentAdmin(s.adminEndSessions))
	app.route("DELETE", "/admin/users/{name}/sessions/{id}", s.requireRecentAdmin(s.adminEndSessions))
	app.route("DELETE", "/admin/sessions", s.requireRecentAdmin(s.adminEndAllSessions))
	// More specific than /sessions/{id}, so it needs no 405 fallback of its own.
	app.handle("POST", "/sessions/revoke-others", s.requireRecentAuth(s.revokeOthers))
	// The HTML pages (pages.go) and the admin's account switches.
	app.handle("GET", "/login", http.HandlerFunc(s.loginPage)) // POST /login gave the path its 405
	app.route("GET", "/account", s.page(false, s.accountPage))
	app.route("GET", "/admin", s.page(true, s.adminPage))
	app.route("POST", "/admin/users/{name}/disable", s.requireRecentAdmin(s.adminDisable))
	app.route("POST", "/admin/users/{name}/enable", s.requireRecentAdmin(s.adminEnable))
	if s.dbsc != nil {
		app.route("POST", dbsc.DefaultRegisterPath, s.dbsc.Register)
		app.route("POST", dbsc.DefaultRefreshPath, s.dbsc.Refresh)
	}
	app.otherwise(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tether.WriteJSONError(w, http.StatusNotFound, "Not found")
	}))
	appPaths := pathsOf(patterns)

	top := newRouter(&patterns)
	top.route("GET", "/healthz", s.healthz)
	top.route("GET", "/readyz", s.readyz)
	if s.metrics != nil && s.metricsOn {
		top.handle("GET", "/metrics", s.metrics.Handler())
	}
	top.route("GET", "/static/{file}", s.static)
	top.otherwise(s.m.Handler(s.enforceDBSC(s.forms(s.csrf.Handler(app.mux)))), appPaths...)
	return s.headers.Handler(apiHeaders(s.docHeaders, s.htmlErrors(s.warnPlainHTTP(top.mux)))), patterns
}

// warnPlainHTTP logs once, in production, when a request arrives over plain
// HTTP and no trusted proxy vouches for HTTPS: the tutorial's "works
// locally, fails behind proxy" row. Secure cookies set on such a response
// are never sent back by browsers.
func (s *Server) warnPlainHTTP(next http.Handler) http.Handler {
	if !s.production {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.proxy.Scheme(r) == "http" {
			s.plainHTTP.Do(func() {
				s.log.Warn("production request over plain HTTP with no trusted proxy saying otherwise: "+
					"browsers will not send the Secure session cookie back. Serve over HTTPS, or set TRUST_PROXY "+
					"to the hop count or CIDRs of the TLS-terminating proxy so its X-Forwarded-Proto is believed",
					"remote", r.RemoteAddr, "trusted_proxy", s.proxy.Trusted(r))
			})
		}
		next.ServeHTTP(w, r)
	})
}

// router registers routes on a ServeMux and records the pattern of each, so
// that the routes served and the routes the metrics know cannot differ.
// Nothing else registers on its ServeMux (TestRoutesOnlyThroughRouter).
type router struct {
	mux      *http.ServeMux
	patterns *[]string
}

func newRouter(patterns *[]string) router {
	return router{mux: http.NewServeMux(), patterns: patterns}
}

// route registers h for method on path, and a JSON 405 for other methods.
func (rt router) route(method, path string, h http.HandlerFunc) {
	rt.handle(method, path, h)
	rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", method)
		tether.WriteJSONError(w, http.StatusMethodNotAllowed, "Method not allowed")
	})
}

// handle registers h for method on path alone: other methods on the path
// go to a less specific pattern (another route's 405, or otherwise).
func (rt router) handle(method, path string, h http.Handler) {
	pattern := method + " " + path
	rt.mux.Handle(pattern, h)
	*rt.patterns = append(*rt.patterns, pattern)
}

// otherwise registers h for the requests no route matches. It is not a
// route: its requests are labelled "other".
//
// paths, the paths of the routes that h serves in turn (an inner router's),
// are registered for h as well. A request for one of them then matches
// exactly instead of through the catch-all "/", for which net/http records
// the whole path as a wildcard match and tries the path with a trailing
// slash for a redirect (five allocations a request); the same requests
// reach h either way.
func (rt router) otherwise(h http.Handler, paths ...string) {
	rt.mux.Handle("/", h)
	seen := map[string]bool{"/": true}
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			rt.mux.Handle(p, h)
		}
	}
}

// pathsOf returns the paths of patterns ("GET /sessions/{id}" gives
// "/sessions/{id}").
func pathsOf(patterns []string) []string {
	out := make([]string, 0, len(patterns))
	for _, p := range patterns {
		_, path, _ := strings.Cut(p, " ")
		out = append(out, path)
	}
	return out
}

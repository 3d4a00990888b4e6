package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/internal/metrics"
	"github.com/tetherhq/tether/internal/proxy"
	"github.com/tetherhq/tether/internal/throttle"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/secheaders"
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
	Proxy proxy.Resolver
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
	// DeviceKeys sign device cookies (see device.go): the first signs, all
	// verify. Derive them from the session secrets (DeviceKeys does). Nil
	// turns device cookies off: every attempt then counts on its account.
	DeviceKeys [][]byte
}

// Server is the reference server's HTTP side. It is safe for concurrent use.
type Server struct {
	m            *tether.Manager
	users        users.Directory
	ready        func(ctx context.Context) error
	log          *slog.Logger
	headers      secheaders.Policy
	csrf         *csrf.Protector
	proxy        proxy.Resolver
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
	seenEvery    time.Duration // seenEvery, shortened by tests
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
	if o.Throttle == nil {
		o.Throttle = throttle.New(throttle.NewMemory(nil), throttle.Policy{})
	}
	if o.Ready == nil {
		o.Ready = func(context.Context) error { return nil }
	}
	prot, err := csrf.New(csrf.Options{Manager: o.Manager, Exempt: []string{"/login", "/logout"}, TrustedOrigins: o.TrustedOrigins})
	if err != nil {
		return nil, err
	}
	return &Server{m: o.Manager, users: o.Users, ready: o.Ready, log: o.Log,
		headers: secheaders.Default(o.Production), csrf: prot, proxy: o.Proxy, production: o.Production,
		metrics: o.Metrics, metricsOn: o.MetricsOnMain,
		binding: o.Binding, reauthWindow: o.ReauthWindow, clientIP: o.ClientIP, throttle: o.Throttle,
		maxPerUser: o.MaxPerUser, seenEvery: seenEvery, devices: newDeviceCookies(o.DeviceKeys, o.Production)}, nil
}

// Handler returns the server's routes. Session routes sit behind the
// Manager; /healthz and /readyz do not, so probes never touch the store
// through a cookie.
func (s *Server) Handler() http.Handler {
	app := http.NewServeMux()
	route(app, "/{$}", "GET", s.root)
	route(app, "/views", "GET", s.views)
	route(app, "/csrf-token", "GET", s.csrfToken)
	route(app, "/login", "POST", s.login)
	route(app, "/profile", "GET", s.requireAuth(s.profile))
	route(app, "/logout", "POST", s.logout)
	route(app, "/reauth", "POST", s.requireAuth(s.reauth))
	route(app, "/password", "POST", s.requireRecentAuth(s.changePassword))
	route(app, "/sessions", "GET", s.requireAuth(s.listSessions))
	route(app, "/sessions/{id}", "DELETE", s.requireRecentAuth(s.deleteSession))
	route(app, "/admin/users/{name}/sessions", "GET", s.requireAuth(s.requireAdmin(s.adminListSessions)))
	app.HandleFunc("DELETE /admin/users/{name}/sessions", s.requireRecentAuth(s.requireAdmin(s.adminEndSessions)))
	route(app, "/admin/users/{name}/sessions/{id}", "DELETE", s.requireRecentAuth(s.requireAdmin(s.adminEndSessions)))
	// More specific than /sessions/{id}, so it needs no 405 fallback of its own.
	app.HandleFunc("POST /sessions/revoke-others", s.requireRecentAuth(s.revokeOthers))
	app.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		tether.WriteJSONError(w, http.StatusNotFound, "Not found")
	})

	top := http.NewServeMux()
	route(top, "/healthz", "GET", s.healthz)
	route(top, "/readyz", "GET", s.readyz)
	if s.metrics != nil && s.metricsOn {
		top.Handle("GET /metrics", s.metrics.Handler())
	}
	top.Handle("/", s.m.Handler(s.csrf.Handler(app)))
	h := s.headers.Handler(s.warnPlainHTTP(top))
	if s.metrics != nil {
		h = s.metrics.Middleware(h)
	}
	return h
}

// Routes are the server's paths, for metric labels.
var Routes = []string{"/", "/views", "/csrf-token", "/login", "/profile", "/logout", "/reauth", "/password",
	"/sessions", "/sessions/revoke-others", "/healthz", "/readyz", "/metrics"}

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

// route registers h for method on path, and a JSON 405 for other methods.
func route(mux *http.ServeMux, path, method string, h http.HandlerFunc) {
	mux.HandleFunc(method+" "+path, h)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", method)
		tether.WriteJSONError(w, http.StatusMethodNotAllowed, "Method not allowed")
	})
}

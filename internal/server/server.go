// Package server holds the reference server's HTTP handlers: the seed
// tutorial's API (/, /views, /csrf-token, /login, /profile, /logout) plus
// /healthz and /readyz, on a tether.Manager.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
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

// Limits on credentials, checked before any hashing.
const (
	maxUsernameBytes = 64
	maxPasswordBytes = 1024
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

// DeviceKeys derives the device-cookie keys from the session secrets, one
// per secret and in the same order, so rotating the session secret rotates
// them too. The derivation is one-way: a device-cookie key reveals nothing
// of the session secret.
func DeviceKeys(secrets [][]byte) [][]byte {
	out := make([][]byte, len(secrets))
	for i, s := range secrets {
		h := hmac.New(sha256.New, s)
		h.Write([]byte("tether device-cookie key v1"))
		out[i] = h.Sum(nil)
	}
	return out
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

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("Server is running."))
}

func (s *Server) views(w http.ResponseWriter, r *http.Request) {
	n, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Views int64 `json:"views"`
	}{n})
}

func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) {
	tok, err := csrf.Token(r)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		CSRFToken string `json:"csrfToken"`
	}{tok})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var username, password string
	if err := decodeForm(w, r, map[string]*string{"username": &username, "password": &password}); err != nil {
		writeError(w, err)
		return
	}
	if username == "" || password == "" {
		tether.WriteJSONError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if len(username) > maxUsernameBytes || len(password) > maxPasswordBytes {
		tether.WriteJSONError(w, http.StatusBadRequest, "username or password too long")
		return
	}
	u, err := s.checkPassword(r, username, password, "", tether.EventLoginFailure)
	var te *throttledError
	switch {
	case errors.Is(err, users.ErrInvalidCredentials):
		tether.WriteJSONError(w, http.StatusUnauthorized, "Invalid credentials")
		return
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(te.wait.Seconds())), 10))
		tether.WriteJSONError(w, http.StatusTooManyRequests, "Too many failed logins; try again later")
		return
	case errors.Is(err, errThrottleUnavailable):
		s.log.Error("login throttle unavailable", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "Login temporarily unavailable")
		return
	case err != nil:
		s.log.Error("login: user directory unavailable", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "User directory unavailable")
		return
	}
	if err := s.enforceCap(r, u.ID); err != nil {
		s.sessionError(w, r, err)
		return
	}
	sess := tether.FromContext(r.Context())
	err = errors.Join(
		sess.Login(u.ID, u.Role),
		sess.Set("username", u.Username),
		sess.Set("role", u.Role),
		s.bind(sess, r),
		s.recordMeta(sess, r),
	)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.devices.issue(w, u.Username, u.PasswordHash)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "user": u.Username})
}

// requireAuth answers 401 unless the session is authenticated.
func (s *Server) requireAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := tether.FromContext(r.Context())
		if sess.UserID() == "" {
			tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
			return
		}
		if !s.checkBinding(w, r, sess) {
			return
		}
		if !s.touchSeen(w, r, sess) {
			return
		}
		next(w, r)
	}
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	sess := tether.FromContext(r.Context())
	writeJSON(w, http.StatusOK, struct {
		UserID   string `json:"userId"`
		Username string `json:"username"`
	}{sess.UserID(), sess.GetString("username")})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tether.FromContext(r.Context()).Logout()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.Warn("readyz: not ready", "err", err)
		tether.WriteJSONError(w, http.StatusServiceUnavailable, "Not ready: a store is unreachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// sessionError answers a failed session operation.
func (s *Server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := tether.StatusOf(err)
	if status >= 500 {
		s.log.Error("session store", "err", err)
	}
	tether.DefaultErrorHandler(w, r, err)
}

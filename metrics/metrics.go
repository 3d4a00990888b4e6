// Package metrics measures a tether application with Prometheus
// (prometheus/client_golang), on a registry of its own so that it never
// collides with an application's other collectors.
//
// [New] makes the collectors; [Metrics.Store] wraps a tether.Store to time
// every call and classify session loads; [Metrics.Middleware] times HTTP
// requests; [Metrics.Handler] serves everything in the Prometheus text
// format (mount it where only your scraper reaches it). The series:
//
//	tether_session_lookups_total{result}          hit, miss, expired, error
//	tether_security_events_total{event}           one series per event type ([Metrics.Event])
//	tether_dbsc_events_total{event,reason}        device-bound session outcomes ([Metrics.DBSC])
//	tether_store_duration_seconds{op}             create, load, update, delete, ping, list_user, delete_user
//	tether_http_request_duration_seconds{route,method,code}
//	tether_password_hashes_total                  Argon2id computations ([Metrics.Passwords])
//	tether_password_hashes_in_flight              computations running now
//	tether_password_hash_slots                    the bound on concurrent computations
//	tether_password_hash_waiting                  callers waiting for a slot
//
// plus the Go runtime and process collectors.
//
// # What it defends against
//
// Labels taken from requests are a denial-of-service vector: a client that
// requests /sessions/1, /sessions/2, … would create a series each and
// exhaust the server's (and the Prometheus server's) memory. So the route
// label is the path of the registered ServeMux pattern that matches the
// request ("/sessions/{id}", never the id itself) and "other" for anything
// else, and a method outside the usual seven is "other" too. Nothing a
// client sends can add a series. No label carries a token, a cookie or a
// user name.
//
// # Concurrency
//
// A Metrics is safe for concurrent use; so is a wrapped store if the inner
// store is.
package metrics

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors and their registry. Make one with [New].
type Metrics struct {
	reg     *prometheus.Registry
	lookups *prometheus.CounterVec
	events  *prometheus.CounterVec
	store   *prometheus.HistogramVec
	http    *prometheus.HistogramVec

	// Children of the vectors by label values, resolved once: the hot path
	// then skips WithLabelValues' hashing and locking on every request.
	lookupC, eventC cache[string, prometheus.Counter]
	dbsc            *prometheus.CounterVec // dbsc.go
	dbscC           cache[dbscKey, prometheus.Counter]
	storeC          cache[string, prometheus.Observer]
	httpC           cache[httpLabels, prometheus.Observer]
}

type httpLabels struct {
	route, method string
	code          int
}

// cache memoizes a vector's children. Its label space is bounded (registered
// routes, methods, status codes, operations, event types), so it only grows
// to that size.
type cache[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func (c *cache[K, V]) get(k K, mk func() V) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[k]; ok {
		return v
	}
	if c.m == nil {
		c.m = map[K]V{}
	}
	v = mk()
	c.m[k] = v
	return v
}

// New registers the collectors (plus the Go runtime and process ones) on a
// fresh registry, which [Metrics.Handler] serves.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_session_lookups_total", Help: "Session loads from the store, by result (hit, miss, expired, error).",
		}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_security_events_total", Help: "Security events, by type.",
		}, []string{"event"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tether_store_duration_seconds", Help: "Latency of session store calls, by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 3},
		}, []string{"op"}),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tether_http_request_duration_seconds", Help: "HTTP request durations, by route, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		dbsc: newDBSCCounter(),
	}
	m.reg.MustRegister(m.lookups, m.events, m.store, m.http, m.dbsc,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// PasswordHasher is what the password metrics read; the passwords
// package's Hasher implements it.
type PasswordHasher interface {
	Computations() int64
	InFlight() int
	Concurrency() int
	Waiting() int64
}

// Passwords registers the password-hashing metrics of h. Call it once: a
// second call panics, as the series are registered already.
func (m *Metrics) Passwords(h PasswordHasher) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tether_password_hashes_total", Help: "Argon2id computations: login checks (including the equal-work dummy for unknown users), rehashes, new passwords.",
		}, func() float64 { return float64(h.Computations()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tether_password_hashes_in_flight", Help: "Argon2id computations running now.",
		}, func() float64 { return float64(h.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tether_password_hash_slots", Help: "The bound on concurrent Argon2id computations (memory is bounded by slots x m).",
		}, func() float64 { return float64(h.Concurrency()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tether_password_hash_waiting", Help: "Callers waiting for an Argon2id slot.",
		}, func() float64 { return float64(h.Waiting()) }),
	)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Event counts a security event. Pass it tether's event names (for
// example from Config.OnEvent): the label space is the set of names it is
// given, so never pass a string a client chose.
func (m *Metrics) Event(name string) {
	m.eventC.get(name, func() prometheus.Counter { return m.events.WithLabelValues(name) }).Inc()
}

// Lookup counts a session lookup: result is "hit", "miss", "expired" or
// "error". The wrapper from [Metrics.Store] calls it; call it yourself only
// for lookups that do not go through that wrapper.
func (m *Metrics) Lookup(result string) {
	m.lookupC.get(result, func() prometheus.Counter { return m.lookups.WithLabelValues(result) }).Inc()
}

// StoreCall records the latency of a store operation (an operation name
// from a fixed set, such as "load").
func (m *Metrics) StoreCall(op string, d time.Duration) {
	m.storeC.get(op, func() prometheus.Observer { return m.store.WithLabelValues(op) }).Observe(d.Seconds())
}

// Middleware records request durations. routes are the ServeMux patterns
// next serves ("GET /sessions/{id}", "/healthz"; no host): a request is
// labelled with the path of the one that matches it, as a ServeMux picks
// it, whatever its method, and with "other" when none does. It panics on a
// pattern with a host or without a leading "/", at startup rather than
// mislabelling requests later. The writer it passes on keeps
// http.ResponseController working (Flush, Unwrap).
func (m *Metrics) Middleware(next http.Handler, routes ...string) http.Handler {
	labels := newRouteLabels(routes)
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := labels.of(r)
		method := r.Method
		if !methods[method] {
			method = "other"
		}
		l := httpLabels{route, method, sw.code}
		m.httpC.get(l, func() prometheus.Observer {
			return m.http.WithLabelValues(l.route, l.method, strconv.Itoa(l.code))
		}).Observe(time.Since(start).Seconds())
	})
}

// routeLabels names a request by the route pattern that matches it.
type routeLabels struct {
	// exact maps the path of each pattern without wildcards to its label:
	// one map lookup for most requests. The ServeMux, which costs several
	// times more, decides the rest.
	exact map[string]string
	mux   *http.ServeMux
}

// routeLabel is the handler registered for a pattern: classifying a request
// is asking the ServeMux which handler it would pick, never serving it.
type routeLabel string

func (routeLabel) ServeHTTP(http.ResponseWriter, *http.Request) {}

func newRouteLabels(patterns []string) *routeLabels {
	l := &routeLabels{exact: map[string]string{}, mux: http.NewServeMux()}
	seen := map[string]bool{}
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if i := strings.IndexAny(p, " \t"); i >= 0 { // after the method
			p = strings.TrimLeft(p[i:], " \t")
		}
		if !strings.HasPrefix(p, "/") {
			panic(fmt.Sprintf("metrics: route %q: want a ServeMux pattern without a host", p))
		}
		if seen[p] { // another method of the same path
			continue
		}
		seen[p] = true
		l.mux.Handle(p, routeLabel(p))
		// A clean pattern without wildcards matches its path alone, and no
		// pattern matching that path is more specific. Not so one ending in
		// "/" (a whole subtree) unless "{$}" anchors it.
		lit, anchored := strings.CutSuffix(p, "{$}")
		if !strings.Contains(lit, "{") && path.Clean(lit) == lit && (anchored || !strings.HasSuffix(lit, "/")) {
			l.exact[lit] = p
		}
	}
	return l
}

// of returns the label of r: the matching pattern's path, or "other".
func (l *routeLabels) of(r *http.Request) string {
	// The map agrees with the ServeMux only on a path that is its own
	// encoding (no RawPath: "%2F" splits no segment for the ServeMux) and
	// outside CONNECT (whose path the ServeMux does not clean).
	if r.URL.RawPath == "" && r.Method != http.MethodConnect {
		if label, ok := l.exact[r.URL.Path]; ok {
			return label
		}
	}
	return l.slow(r)
}

// slow asks the ServeMux. A redirect (to a cleaned path, or to "/x/" for
// "/x") is "other", as its handler is not a route's.
func (l *routeLabels) slow(r *http.Request) string {
	if h, _ := l.mux.Handler(r); h != nil {
		if label, ok := h.(routeLabel); ok {
			return string(label)
		}
	}
	return "other"
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

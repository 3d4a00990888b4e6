package server

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"github.com/tetherhq/tether/secheaders"
)

// apiCSP is the Content-Security-Policy of a JSON answer: it loads nothing
// and may be framed by no one (OWASP REST Security Cheat Sheet).
var apiCSP = []string{"default-src 'none'; frame-ancestors 'none'"}

var noStore = []string{"no-store"}

// documentOnly are the headers of package secheaders' document set that
// mean nothing to a JSON answer, which no browser renders as a page (it is
// declared application/json, and X-Content-Type-Options: nosniff keeps it
// so).
var documentOnly = []string{
	"Cross-Origin-Opener-Policy", "Origin-Agent-Cluster", "Permissions-Policy", "X-Dns-Prefetch-Control",
	"X-Download-Options", "X-Permitted-Cross-Domain-Policies", "X-Xss-Protection",
}

// docHeader is one document-only header with its value, shared between
// responses (len == cap == 1, see secheaders.Policy.Headers).
type docHeader struct {
	name string
	val  []string
}

// splitPolicy divides the security header policy p between secheaders and
// apiHeaders: base is p without the document-only headers, for secheaders
// to set on every response before the handler runs; doc holds those
// headers, which apiHeaders adds when a response that is not JSON starts.
//
// The headers a response ends with are the same as if secheaders had set
// them all and apiHeaders had removed them from JSON answers, except that a
// handler cannot remove a document-only header from a page (the server has
// none that does; replacing one still works). What it saves: a JSON answer
// never holds them, so the response's header map stays within one map group
// (8 entries) instead of growing twice to hold 12 headers and dropping 7
// (docs/benchmarks.md, "Where the time goes").
func splitPolicy(p secheaders.Policy) (base secheaders.Policy, doc []docHeader, err error) {
	all, err := p.Headers()
	if err != nil {
		return p, nil, err
	}
	for _, name := range documentOnly {
		if v, ok := all[name]; ok {
			doc = append(doc, docHeader{name, v})
		}
	}
	base = p
	base.CrossOriginOpenerPolicy, base.OriginAgentCluster, base.PermissionsPolicy = "", "", ""
	base.DNSPrefetchControl, base.DownloadOptions, base.PermittedCrossDomainPolicies, base.XSSProtection = "", "", "", ""
	return base, doc, nil
}

// apiHeaders gives JSON answers the API header set of DESIGN "Contract
// additions" instead of the document set: Content-Security-Policy:
// default-src 'none'; frame-ancestors 'none', Cache-Control: no-store
// (unless the route chose otherwise), and without the document-only
// headers. X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Cross-Origin-Resource-Policy and, in production, HSTS stay as secheaders
// set them. Every other response (HTML pages, with their nonce; plain text;
// a response that writes nothing) gets the document-only headers doc that
// it does not already have when it starts. It runs inside secheaders'
// handler, whose policy is splitPolicy's base, and which keeps a policy a
// handler replaced.
func apiHeaders(doc []docHeader, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &apiWriter{ResponseWriter: w, doc: doc}
		next.ServeHTTP(a, r)
		if !a.done {
			// Nothing written: net/http sends the headers after the
			// handler returns, without a Content-Type of ours.
			a.done = true
			a.addDocument(a.ResponseWriter.Header())
		}
	})
}

type apiWriter struct {
	http.ResponseWriter
	doc  []docHeader
	done bool
}

func (a *apiWriter) finish() {
	if a.done {
		return
	}
	a.done = true
	h := a.ResponseWriter.Header()
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		a.addDocument(h)
		return
	}
	// Delete, then set: a response's header map starts as a small map of
	// one group (8 entries), and Go grows a full small map on any
	// assignment, even to a key it holds (700 bytes and a rehash); a JSON
	// answer's 8 headers fit when the old policy's slot is freed first.
	delete(h, "Content-Security-Policy")
	h["Content-Security-Policy"] = apiCSP
	if h.Get("Cache-Control") == "" {
		h["Cache-Control"] = noStore
	}
	for _, name := range documentOnly {
		delete(h, name) // a handler's own, if any
	}
}

// addDocument adds the document-only headers that h lacks.
func (a *apiWriter) addDocument(h http.Header) {
	for _, d := range a.doc {
		if _, ok := h[d.name]; !ok {
			h[d.name] = d.val
		}
	}
}

func (a *apiWriter) WriteHeader(code int) {
	if code >= 200 {
		a.finish()
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *apiWriter) Write(b []byte) (int, error) {
	a.finish()
	return a.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (a *apiWriter) Flush() {
	a.finish()
	_ = http.NewResponseController(a.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker: the headers are finished first, as
// secheaders' writer does, for a library that writes its handshake with
// them.
func (a *apiWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	a.finish()
	return http.NewResponseController(a.ResponseWriter).Hijack()
}

func (a *apiWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

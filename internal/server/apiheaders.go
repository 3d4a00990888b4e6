package server

import (
	"net/http"
	"strings"
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

// apiHeaders gives JSON answers the API header set of DESIGN "Contract
// additions" instead of the document set that secheaders puts on every
// response: Content-Security-Policy: default-src 'none'; frame-ancestors
// 'none', Cache-Control: no-store (unless the route chose otherwise), and
// without the document-only headers. X-Content-Type-Options,
// X-Frame-Options, Referrer-Policy, Cross-Origin-Resource-Policy and, in
// production, HSTS stay as secheaders set them. HTML pages keep the whole
// document set with their nonce. It runs inside secheaders' handler, which
// keeps a policy a handler replaced.
func apiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&apiWriter{ResponseWriter: w}, r)
	})
}

type apiWriter struct {
	http.ResponseWriter
	done bool
}

func (a *apiWriter) finish() {
	if a.done {
		return
	}
	a.done = true
	h := a.ResponseWriter.Header()
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		return
	}
	h["Content-Security-Policy"] = apiCSP
	if h.Get("Cache-Control") == "" {
		h["Cache-Control"] = noStore
	}
	for _, name := range documentOnly {
		delete(h, name)
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

func (a *apiWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

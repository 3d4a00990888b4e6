// Package secheaders sets security response headers: everything helmet 8
// sets by default, stronger where OWASP ASVS 5.0 asks, with a per-request
// nonce for a page's own scripts and styles.
//
// Default(production) sets:
//
//	Content-Security-Policy        default-src 'self'; base-uri 'none'; object-src 'none';
//	                               frame-ancestors 'none'; form-action 'self'; img-src 'self' data:;
//	                               font-src 'self'; script-src 'self'; script-src-attr 'none';
//	                               style-src 'self' (+ upgrade-insecure-requests in production)
//	Strict-Transport-Security      max-age=31536000; includeSubDomains   (production only)
//	Cross-Origin-Opener-Policy     same-origin
//	Cross-Origin-Resource-Policy   same-origin
//	Origin-Agent-Cluster           ?1
//	Referrer-Policy                no-referrer
//	X-Content-Type-Options         nosniff
//	X-Frame-Options                DENY
//	X-DNS-Prefetch-Control         off
//	X-Download-Options             noopen
//	X-Permitted-Cross-Domain-Policies none
//	X-XSS-Protection               0
//	Permissions-Policy             accelerometer=(), camera=(), geolocation=(), gyroscope=(),
//	                               magnetometer=(), microphone=(), payment=(), usb=()
//
// and removes X-Powered-By, and a Server header that carries a version.
//
// Compared with helmet 8's defaults (which are the same list without
// Permissions-Policy): frame-ancestors and X-Frame-Options are 'none'/DENY
// rather than 'self'/SAMEORIGIN, base-uri is 'none' rather than 'self', and
// style-src drops https: and 'unsafe-inline' (use the nonce instead).
//
// HSTS is sent only when the policy says so (Default does in production),
// whatever the request's scheme: a production server sits behind a
// TLS-terminating proxy, and the header is ignored over plain HTTP anyway.
//
// Per route: build another Policy (Default(...) then change fields) and
// wrap that route's handler with its Handler. Policies are validated and
// their header values computed once, in Handler, which panics with a
// "secheaders:" message on an invalid policy. Handlers are safe for
// concurrent use.
package secheaders

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Policy is a set of security headers. The zero Policy sets nothing; start
// from Default.
type Policy struct {
	// CSP is the Content-Security-Policy; nil sends none.
	CSP *CSP
	// HSTS, when set, sends Strict-Transport-Security with HSTSMaxAge (at
	// least 1 year when set through Default), includeSubDomains and, if
	// HSTSPreload, preload.
	HSTS                  bool
	HSTSMaxAge            time.Duration
	HSTSIncludeSubDomains bool
	HSTSPreload           bool
	// The remaining fields are header values; "" omits the header.
	CrossOriginOpenerPolicy      string
	CrossOriginResourcePolicy    string
	CrossOriginEmbedderPolicy    string
	OriginAgentCluster           string
	ReferrerPolicy               string
	FrameOptions                 string
	PermissionsPolicy            string
	DNSPrefetchControl           string
	DownloadOptions              string
	PermittedCrossDomainPolicies string
	XSSProtection                string
	ContentTypeOptions           string
}

// Default returns the policy described in the package doc.
func Default(production bool) Policy {
	return Policy{
		CSP:                          DefaultCSP(production),
		HSTS:                         production,
		HSTSMaxAge:                   365 * 24 * time.Hour,
		HSTSIncludeSubDomains:        true,
		CrossOriginOpenerPolicy:      "same-origin",
		CrossOriginResourcePolicy:    "same-origin",
		OriginAgentCluster:           "?1",
		ReferrerPolicy:               "no-referrer",
		FrameOptions:                 "DENY",
		PermissionsPolicy:            "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
		DNSPrefetchControl:           "off",
		DownloadOptions:              "noopen",
		PermittedCrossDomainPolicies: "none",
		XSSProtection:                "0",
		ContentTypeOptions:           "nosniff",
	}
}

type header struct{ name, value string }

// compiled is a validated Policy with its header values computed. vals
// holds one ready []string per static header (len == cap == 1), shared by
// every response: net/http copies header values when the response starts,
// Header.Set replaces a slice and Header.Add must copy it to append, so no
// response can change another's.
type compiled struct {
	static []header
	vals   [][]string
	csp    *compiledCSP
	cspVal []string // the CSP header value when it has no nonce
}

func (p Policy) compile() (*compiled, error) {
	c := &compiled{}
	add := func(name, value string) error {
		if value == "" {
			return nil
		}
		if strings.ContainsAny(value, "\r\n") {
			return fmt.Errorf("secheaders: %s value contains a line break", name)
		}
		c.static = append(c.static, header{http.CanonicalHeaderKey(name), value})
		return nil
	}
	if p.HSTS {
		if p.HSTSMaxAge < 0 {
			return nil, fmt.Errorf("secheaders: HSTSMaxAge %v must not be negative", p.HSTSMaxAge)
		}
		if p.HSTSPreload && (p.HSTSMaxAge < 365*24*time.Hour || !p.HSTSIncludeSubDomains) {
			return nil, fmt.Errorf("secheaders: HSTSPreload needs HSTSMaxAge of at least a year and HSTSIncludeSubDomains")
		}
		v := fmt.Sprintf("max-age=%d", int64(p.HSTSMaxAge/time.Second))
		if p.HSTSIncludeSubDomains {
			v += "; includeSubDomains"
		}
		if p.HSTSPreload {
			v += "; preload"
		}
		_ = add("Strict-Transport-Security", v)
	}
	for _, h := range []header{
		{"Cross-Origin-Opener-Policy", p.CrossOriginOpenerPolicy},
		{"Cross-Origin-Resource-Policy", p.CrossOriginResourcePolicy},
		{"Cross-Origin-Embedder-Policy", p.CrossOriginEmbedderPolicy},
		{"Origin-Agent-Cluster", p.OriginAgentCluster},
		{"Referrer-Policy", p.ReferrerPolicy},
		{"X-Frame-Options", p.FrameOptions},
		{"Permissions-Policy", p.PermissionsPolicy},
		{"X-DNS-Prefetch-Control", p.DNSPrefetchControl},
		{"X-Download-Options", p.DownloadOptions},
		{"X-Permitted-Cross-Domain-Policies", p.PermittedCrossDomainPolicies},
		{"X-XSS-Protection", p.XSSProtection},
		{"X-Content-Type-Options", p.ContentTypeOptions},
	} {
		if err := add(h.name, h.value); err != nil {
			return nil, err
		}
	}
	if p.CSP != nil {
		csp, err := p.CSP.compile()
		if err != nil {
			return nil, err
		}
		c.csp = csp
		// The nonce-free rendering; a response that gets a nonce has the
		// nonced one put in its place (see stripWriter.strip).
		c.cspVal = []string{csp.value("")}
	}
	for _, h := range c.static {
		c.vals = append(c.vals, []string{h.value})
	}
	return c, nil
}

// Headers returns the headers that Handler sets on every response, other
// than the Content-Security-Policy (which may carry a per-request nonce),
// under their canonical names. Each value is a one-element slice (len == cap
// == 1) that the caller may share between responses, as Handler does:
// net/http copies values when the response starts, Header.Set replaces the
// slice and Header.Add copies it to append. It reports an invalid policy
// with the error Handler would panic with. Middleware that decides late
// which headers a response gets (the reference server adds the document-only
// ones only to responses that are not JSON) sets them from it.
func (p Policy) Headers() (http.Header, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(c.static))
	for i, hd := range c.static {
		h[hd.name] = c.vals[i]
	}
	return h, nil
}

// Handler returns middleware that sets the policy's headers on every
// response. It panics if the policy is invalid (a programming error).
func (p Policy) Handler(next http.Handler) http.Handler {
	c, err := p.compile()
	if err != nil {
		panic(err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for i, hd := range c.static {
			h[hd.name] = c.vals[i]
		}
		sw := &stripWriter{ResponseWriter: w}
		if c.csp != nil {
			h[c.csp.header] = c.cspVal
			if c.csp.nonce {
				sw.csp = c
				sw.ctx = nonceCtx{Context: r.Context(), n: &sw.nonce}
				r = r.WithContext(&sw.ctx)
			}
		}
		next.ServeHTTP(sw, r)
		// A handler that wrote nothing: net/http sends the headers after
		// it returns, so they are still ours to finish.
		sw.strip()
	})
}

type nonceKey struct{}

// nonceCtx is the request's context with its nonce attached, as
// context.WithValue would, but a field of the request's stripWriter, so
// that attaching it allocates nothing more.
type nonceCtx struct {
	context.Context
	n *nonce
}

func (c *nonceCtx) Value(key any) any {
	if _, ok := key.(nonceKey); ok {
		return c.n
	}
	return c.Context.Value(key)
}

// mayRender reports whether a response of this declared Content-Type could
// be rendered as a document that runs scripts. Only JSON and plain text are
// known not to be (and X-Content-Type-Options: nosniff keeps browsers from
// guessing otherwise); an undeclared type is sniffed, so it may be HTML.
func mayRender(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "application/json", mt == "text/plain", strings.HasSuffix(mt, "+json"):
		return false
	}
	return true
}

// nonce is a request's CSP nonce. It is made when the handler first asks
// for it, or when the response starts if it may be a page (see mayRender).
// A response declared as data (JSON, plain text) that never asks pays for no
// random bytes and carries the shorter nonce-free policy, which allows no
// inline script or style at all, and is never rendered as a document, so a
// fallback such as 'unsafe-inline' in the policy cannot apply to it.
type nonce struct {
	mu    sync.Mutex
	value string
}

func (n *nonce) get() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.value == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		n.value = base64.RawStdEncoding.EncodeToString(b[:])
	}
	return n.value
}

// made returns the nonce if the handler asked for one, else "".
func (n *nonce) made() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.value
}

// Nonce returns the request's CSP nonce, for <script nonce="…"> and
// <style nonce="…"> in pages the handler renders; "" when the policy has no
// nonce. Each request has its own 128-bit nonce, and every response that may
// be a page carries it in script-src and style-src, whenever the handler asks
// for it (a template function that calls Nonce while rendering works). A
// response declared as JSON or plain text carries it only if the handler
// asked for it before the response started. Safe for concurrent use by the
// request's goroutines.
func Nonce(r *http.Request) string {
	n, _ := r.Context().Value(nonceKey{}).(*nonce)
	if n == nil {
		return ""
	}
	return n.get()
}

// stripWriter removes headers that advertise the software just before the
// response starts, whoever set them, and puts the request's nonce, if the
// response gets one (see nonce), into the policy.
type stripWriter struct {
	http.ResponseWriter
	done  bool
	csp   *compiled // set when the policy takes a nonce
	nonce nonce
	ctx   nonceCtx // the request's context with &nonce, when csp is set
}

func (w *stripWriter) strip() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	if w.csp != nil {
		n := w.nonce.made()
		if n == "" && mayRender(h.Get("Content-Type")) {
			// A page that asks for its nonce only while it renders (a
			// template function) asks after this point: it gets this one,
			// and the policy already carries it. Only responses declared
			// as data skip the nonce.
			n = w.nonce.get()
		}
		if n != "" {
			// Only if the handler left the policy as set: its own
			// replacement or removal stands. The shared slice is never
			// written in place.
			if vals := h[w.csp.csp.header]; len(vals) > 0 && vals[0] == w.csp.cspVal[0] {
				nv := make([]string, len(vals))
				copy(nv, vals)
				nv[0] = w.csp.csp.value(n)
				h[w.csp.csp.header] = nv
			}
		}
	}
	h.Del("X-Powered-By")
	if s := h.Get("Server"); strings.ContainsAny(s, "/0123456789") {
		h.Del("Server")
	}
}

func (w *stripWriter) WriteHeader(code int) {
	if code < 100 || code >= 200 || code == http.StatusSwitchingProtocols {
		w.strip() // informational responses (103 Early Hints) are not the response yet
	}
	w.ResponseWriter.WriteHeader(code)
}
func (w *stripWriter) Write(b []byte) (int, error) {
	w.strip()
	return w.ResponseWriter.Write(b)
}

// Flush implements [http.Flusher].
func (w *stripWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush that reports failure ([http.ResponseController.Flush]
// calls it).
func (w *stripWriter) FlushError() error {
	w.strip()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements [http.Hijacker] (WebSocket upgrades): the headers are
// finished first, for a library that writes its handshake with them. When
// the underlying writer cannot hijack (HTTP/2), the error wraps
// [http.ErrNotSupported].
func (w *stripWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.strip()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// ReadFrom implements [io.ReaderFrom], so that net/http's sendfile path
// stays open through this writer.
func (w *stripWriter) ReadFrom(src io.Reader) (int64, error) {
	w.strip()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src) // not a ReaderFrom: io.Copy cannot come back here
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *stripWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

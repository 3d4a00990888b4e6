package server

import (
	"bytes"
	"net/http"
	"strings"
)

// htmlErrors answers every error to a browser as an HTML page with the same
// status (issue 15): a request whose Accept prefers text/html and whose
// answer is a JSON error ({"error":…}, status 400 or more), from a route,
// the CSRF check or the session middleware (a store outage's 503), gets
// the error page instead, with the route's headers (Retry-After, an expired
// session cookie) kept. API clients (Accept: */*, application/json) keep
// their JSON. It is the outermost handler inside the security headers, so
// the page carries the request's CSP nonce.
func (s *Server) htmlErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !prefersHTML(r.Header.Get("Accept")) {
			next.ServeHTTP(w, r)
			return
		}
		ew := &errorPageWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		if ew.status != 0 {
			s.errorPage(w, r, ew.status, jsonError(ew.body.Bytes()))
		}
	})
}

// errorPageWriter holds back a JSON error answer (status set when it did).
type errorPageWriter struct {
	http.ResponseWriter
	status  int // the held-back error's status
	started bool
	body    bytes.Buffer
}

func (e *errorPageWriter) WriteHeader(code int) {
	if e.started || e.status != 0 {
		return
	}
	ct := e.Header().Get("Content-Type")
	if code >= 400 && strings.HasPrefix(ct, "application/json") {
		e.status = code
		return
	}
	if code >= 200 {
		e.started = true
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorPageWriter) Write(b []byte) (int, error) {
	if !e.started && e.status == 0 {
		e.WriteHeader(http.StatusOK)
	}
	if e.status != 0 {
		if e.body.Len() < 64<<10 {
			e.body.Write(b)
		}
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

// Flush implements http.Flusher for answers that are not held back.
func (e *errorPageWriter) Flush() {
	if e.status == 0 {
		_ = http.NewResponseController(e.ResponseWriter).Flush()
	}
}

func (e *errorPageWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// errorView is the error page's data.
type errorView struct {
	Status        int
	Heading, Text string
	SignIn        bool
}

// errorPage renders the error page for status with the route's message.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := errorView{Status: status, Heading: http.StatusText(status), Text: msg}
	switch status {
	case http.StatusUnauthorized:
		v.Heading, v.SignIn = "Please sign in", true
		if msg == "Not authenticated" || msg == "" {
			v.Text = "You need to be signed in to see this."
		}
	case http.StatusForbidden:
		v.Heading = "Not allowed"
		if strings.Contains(msg, "CSRF") || strings.Contains(msg, "origin") {
			v.Text = "This form was sent from another site, or the page was too old. Go back, reload the page and try again."
		}
	case http.StatusNotFound:
		v.Heading = "Page not found"
		if msg == "Not found" {
			v.Text = "There is nothing at this address."
		}
	case http.StatusServiceUnavailable:
		v.Heading = "Temporarily unavailable"
		v.Text = "The service cannot answer right now. Try again in a moment."
	case http.StatusInternalServerError:
		v.Heading, v.Text = "Something went wrong", "The error was logged. Try again in a moment."
	}
	w.Header().Del("Content-Length")
	s.render(w, r, status, "error", view{Title: v.Heading, Body: v})
}

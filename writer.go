package tether

import (
	"net/http"
	"slices"
)

// writer saves the session before the first byte of the response, so that
// Set-Cookie can still be sent and a failed save can still become an error
// response.
type writer struct {
	http.ResponseWriter
	s      *Session
	done   bool
	failed bool
	// outer names the headers set before the handler ran, by middleware
	// outside the Manager (security headers, request IDs): a failed save
	// keeps them on its error response. Most responses have few enough to
	// fit in outerBuf without another allocation.
	outer    []string
	outerBuf [24]string
}

func newWriter(w http.ResponseWriter, s *Session) *writer {
	sw := &writer{ResponseWriter: w, s: s}
	sw.outer = sw.outerBuf[:0]
	for k := range w.Header() {
		sw.outer = append(sw.outer, k)
	}
	return sw
}

// commitOnce saves the session the first time it is called and reports
// whether the handler's response may go on.
func (w *writer) commitOnce() bool {
	if w.done {
		return !w.failed
	}
	w.done = true
	err := w.s.commit()
	h := w.ResponseWriter.Header()
	if err != nil {
		// Drop whatever the handler prepared: the response it meant to send
		// claims something that was not saved. What outer middleware set
		// (security headers above all) stays on the error response.
		for k := range h {
			if !slices.Contains(w.outer, k) {
				delete(h, k)
			}
		}
		w.failed = true
		w.s.writeHeaders(h, err)
		w.s.m.cfg.ErrorHandler(w.ResponseWriter, w.s.r, err)
		return false
	}
	w.s.writeHeaders(h, nil)
	return true
}

func (w *writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: not the response yet
		return
	}
	if w.commitOnce() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.commitOnce() {
		return 0, errAborted
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *writer) Flush() {
	if w.commitOnce() {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

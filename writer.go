package tether

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
)

// writer saves the session before the first byte of the response, so that
// Set-Cookie can still be sent and a failed save can still become an error
// response.
//
// It supports what net/http's own writer does, each after the session is
// saved: [http.Flusher] (and FlushError), [http.Hijacker] (WebSockets),
// [io.ReaderFrom] (sendfile through [http.ServeContent]), and
// [http.ResponseController], which reaches the underlying writer through
// Unwrap for deadlines and full duplex.
type writer struct {
	http.ResponseWriter
	s    *Session
	done bool
	err  error // why the save failed; nil while the response may go on
	// outer names the headers set before the handler ran, by middleware
	// outside the Manager (security headers, request IDs): a failed save
	// keeps them on its error response. Most responses have few enough to
	// fit in outerBuf without another allocation; its length keeps the
	// request's exchange (Session and writer, middleware.go) in the
	// 896-byte size class.
	outer    []string
	outerBuf [20]string
}

// init sets up sw, a zero writer (a field of the request's exchange), to
// save s before the first byte written to w, and returns it.
func (sw *writer) init(w http.ResponseWriter, s *Session) *writer {
	sw.ResponseWriter, sw.s = w, s
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
		return w.err == nil
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
		w.err = err
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

// Flush implements [http.Flusher]: it saves the session, then flushes.
func (w *writer) Flush() { _ = w.FlushError() }

// FlushError is Flush that reports failure; [http.ResponseController.Flush]
// calls it. An error wrapping [http.ErrNotSupported] means that the
// underlying writer cannot flush.
func (w *writer) FlushError() error {
	if !w.commitOnce() {
		return errAborted
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements [http.Hijacker] for WebSocket upgrades. The session is
// saved first: if that fails, the error response is written (through
// [Config.ErrorHandler]), the connection is not taken, and Hijack returns the
// error. After a hijack the session is never written again. When the underlying writer cannot
// hijack (HTTP/2, HTTP/3), the error wraps [http.ErrNotSupported].
//
// The session's Set-Cookie is in the response's header map when the
// connection is taken. A library that sends its handshake through the
// writer (coder/websocket's Accept calls WriteHeader(101)) sends it; one
// that writes its own handshake on the raw connection (gorilla/websocket's
// Upgrade) sends only the headers passed to it, so a session created or
// given a new token by the upgrade request itself does not reach the
// client: log in and create sessions in ordinary requests.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.commitOnce() {
		return nil, nil, w.err
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// ReadFrom implements [io.ReaderFrom]: it saves the session, then hands src
// to the underlying writer's ReadFrom (net/http's uses sendfile for files)
// or copies it.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if !w.commitOnce() {
		return 0, errAborted
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src) // not a ReaderFrom: io.Copy cannot come back here
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

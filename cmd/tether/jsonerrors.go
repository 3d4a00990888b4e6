package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// net/http answers a few malformed requests itself, before any handler
// runs, in plain text: 431 for request headers over MaxHeaderBytes (a
// 70 KB Cookie header), 400 for a malformed request line or header or a
// missing Host, 505 for an unknown protocol version, 501 for an unknown
// transfer encoding. The reference server promises JSON errors everywhere,
// so its listener is wrapped by jsonErrorListener: each connection's
// writes pass through untouched, except one that is exactly such an
// answer, which is replaced by the same status with a JSON body,
// {"error":"Request headers too large"}. The limits themselves do not
// change: the request is still refused at MaxHeaderBytes, before any
// handler or session lookup.
//
// The match is on net/http's exact bytes, in one Write:
//
//	"HTTP/1.1 " STATUS stdlibErrorHeaders BODY
//
// where STATUS is "431 Request Header Fields Too Large" (BODY the same),
// "CODE TEXT: DETAIL" (BODY the same) or "501 Not Implemented" (BODY
// "Unsupported transfer encoding"). A response from a handler never has
// this form (net/http adds a Date header to those), and should a future Go
// word its answers differently they would pass through as plain text:
// TestStdlibErrorsAreJSON fails then.
type jsonErrorListener struct{ net.Listener }

// stdlibErrorHeaders are the headers of net/http's own error answers.
const stdlibErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Accept wraps each connection.
func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

// jsonErrorConn rewrites net/http's plain-text error answers (see
// jsonErrorListener). It keeps the optional methods net/http uses on a
// connection: CloseWrite (a clean close after a 431) and ReadFrom
// (sendfile for static responses).
type jsonErrorConn struct{ net.Conn }

func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if out, ok := jsonStdlibError(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes the connection when the underlying one can.
func (c *jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets io.Copy reach the underlying connection's ReadFrom.
func (c *jsonErrorConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// jsonStdlibError returns the JSON form of p when p is one of net/http's
// plain-text error answers, and false otherwise.
func jsonStdlibError(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) > 1024 || !bytes.HasPrefix(p, []byte(proto)) {
		return nil, false
	}
	i := bytes.Index(p, []byte(stdlibErrorHeaders))
	if i < 0 {
		return nil, false
	}
	status, body := string(p[len(proto):i]), string(p[i+len(stdlibErrorHeaders):])
	if len(status) < 5 || status[3] != ' ' {
		return nil, false
	}
	code, err := strconv.Atoi(status[:3])
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	text := http.StatusText(code)
	if text == "" {
		return nil, false
	}
	var msg string
	switch {
	case code == http.StatusNotImplemented && status == "501 "+text && body == "Unsupported transfer encoding":
		msg = body
	case body != status:
		return nil, false
	case code == http.StatusRequestHeaderFieldsTooLarge && status == "431 "+text:
		msg = "Request headers too large"
	case status == status[:4]+text:
		msg = text
	case len(status) > 4+len(text)+2 && status[4:4+len(text)+2] == text+": ":
		msg = text + ": " + status[4+len(text)+2:]
	default:
		return nil, false
	}
	b, _ := json.Marshal(map[string]string{"error": msg})
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"+
		"Cache-Control: no-store\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", code, text, len(b), b), true
}

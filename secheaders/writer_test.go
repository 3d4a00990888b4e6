package secheaders_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/secheaders"
)

// The policy's writer lets a handler take the connection over (WebSockets)
// both ways libraries ask for it, and finishes the headers first.
func TestHijack(t *testing.T) {
	for _, mode := range []string{"hijacker", "controller"} {
		t.Run(mode, func(t *testing.T) {
			h := secheaders.Default(false).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Powered-By", "Express")
				var conn net.Conn
				var brw *bufio.ReadWriter
				var err error
				if mode == "hijacker" {
					hj, ok := w.(http.Hijacker)
					if !ok {
						t.Errorf("writer %T is not an http.Hijacker", w)
						return
					}
					conn, brw, err = hj.Hijack()
				} else {
					conn, brw, err = http.NewResponseController(w).Hijack()
				}
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				if got := w.Header().Get("X-Powered-By"); got != "" {
					t.Errorf("X-Powered-By at the hijack: got %q, want it removed", got)
				}
				_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello\n")
				_ = brw.Flush()
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "test")
			if err := req.Write(conn); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status: got %d, want 101", resp.StatusCode)
			}
			if line, _ := br.ReadString('\n'); line != "hello\n" {
				t.Fatalf("after the handshake: got %q, want %q", line, "hello\n")
			}
		})
	}
}

func TestHijackNotSupported(t *testing.T) {
	var got error
	h := secheaders.Default(false).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, got = http.NewResponseController(w).Hijack()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !errors.Is(got, http.ErrNotSupported) {
		t.Fatalf("Hijack on a recorder: got %v, want an error wrapping http.ErrNotSupported", got)
	}
}

// Flushing through the policy's writer finishes the headers and reaches the
// server's writer.
func TestFlush(t *testing.T) {
	rec := httptest.NewRecorder()
	h := secheaders.Default(false).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Express")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if !rec.Flushed {
			t.Error("Flush did not reach the server's writer")
		}
	}))
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("X-Powered-By"); got != "" {
		t.Fatalf("X-Powered-By: got %q, want it removed", got)
	}
}

type readFromRecorder struct {
	*httptest.ResponseRecorder
	calls int
}

func (w *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.calls++
	return io.Copy(w.ResponseRecorder, src)
}

// io.Copy onto the policy's writer reaches the server's ReadFrom (net/http's
// sendfile path).
func TestReadFromDelegates(t *testing.T) {
	w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h := secheaders.Default(false).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.Copy(w, io.LimitReader(strings.NewReader("body"), 10))
	}))
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.calls != 1 || w.Body.String() != "body" {
		t.Fatalf("ReadFrom: got %d calls and body %q, want 1 call and %q", w.calls, w.Body.String(), "body")
	}
}

package tether_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/secheaders"
)

// hijackApp is the chain a WebSocket app runs: security headers, the
// session Manager and the CSRF check, around routes that take the
// connection over in the three ways WebSocket libraries do.
func hijackApp(t *testing.T, f *fixture) http.Handler {
	t.Helper()
	p, err := csrf.New(csrf.Options{Manager: f.m})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("user-1", "")
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, tether.FromContext(r.Context()).GetString("ws"))
	})
	mux.HandleFunc("GET /ws/{mode}", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		mode := r.PathValue("mode")
		if err := s.Set("ws", mode); err != nil && !errors.Is(err, tether.ErrStoreUnavailable) {
			t.Errorf("Set before the hijack: %v", err)
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the chain: %v", err)
		}
		var conn net.Conn
		var brw *bufio.ReadWriter
		var err error
		switch mode {
		case "hijacker": // gorilla/websocket
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Errorf("writer %T is not an http.Hijacker", w)
				return
			}
			conn, brw, err = hj.Hijack()
		case "controller":
			conn, brw, err = http.NewResponseController(w).Hijack()
		case "writeheader": // coder/websocket: the handshake goes through the writer
			w.Header().Set("Upgrade", "test")
			w.Header().Set("Connection", "Upgrade")
			w.WriteHeader(http.StatusSwitchingProtocols)
			conn, brw, err = http.NewResponseController(w).Hijack()
		}
		if err != nil {
			if !errors.Is(err, tether.ErrStoreUnavailable) {
				t.Errorf("Hijack: %v", err)
			}
			return // the middleware has answered with the error
		}
		defer conn.Close()
		if mode != "writeheader" {
			_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
			_ = brw.Flush()
		}
		line, err := brw.ReadString('\n')
		if err != nil {
			t.Errorf("read on the hijacked connection: %v", err)
			return
		}
		_, _ = brw.WriteString("pong " + s.UserID() + " " + strings.TrimSpace(line) + "\n")
		_ = brw.Flush()
	})
	return secheaders.Default(false).Handler(f.m.Handler(p.Handler(mux)))
}

// upgrade sends an upgrade request for path on a raw connection, checks the
// 101 answer, exchanges one line and returns the handshake response and
// the server's reply.
func upgrade(t *testing.T, addr, path, cookie string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "test")
	if cookie != "" {
		req.Header.Set("Cookie", "sid="+cookie)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("handshake: got %d %q, want 101", resp.StatusCode, body)
	}
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reply on the upgraded connection: %v", err)
	}
	return resp, line
}

func TestHijackThroughTheChainSavesTheSession(t *testing.T) {
	for _, mode := range []string{"hijacker", "controller", "writeheader"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, nil)
			f.h = hijackApp(t, f)
			srv := httptest.NewServer(f.h)
			defer srv.Close()
			_, c := f.do(t, "/login", "")
			f.clock.Add(time.Minute) // the rolling cookie is due again

			resp, line := upgrade(t, srv.Listener.Addr().String(), "/ws/"+mode, c)
			if want := "pong user-1 ping\n"; line != want {
				t.Fatalf("reply: got %q, want %q", line, want)
			}
			if mode == "writeheader" {
				// The handshake went through the writers: it carries the
				// security headers and the session's refreshed cookie.
				if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
					t.Errorf("X-Frame-Options on the 101: got %q, want DENY", got)
				}
				if got := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(got, "sid="+c) {
					t.Errorf("Set-Cookie on the 101: got %q, want the session's cookie", got)
				}
			}
			rec, _ := f.do(t, "/get", c)
			if got := rec.Body.String(); got != mode {
				t.Fatalf("value set before the hijack: got %q, want %q", got, mode)
			}
		})
	}
}

// A new session created by the upgrade request itself reaches the client
// when the handshake goes through the writer (coder/websocket).
func TestHijackNewSessionCookieOnHandshake(t *testing.T) {
	f := newFixture(t, nil)
	f.h = hijackApp(t, f)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	resp, _ := upgrade(t, srv.Listener.Addr().String(), "/ws/writeheader", "")
	var c string
	for _, ck := range resp.Cookies() {
		if ck.Name == "sid" {
			c = ck.Value
		}
	}
	if c == "" {
		t.Fatalf("Set-Cookie on the 101: got %q, want a new session's cookie", resp.Header.Values("Set-Cookie"))
	}
	if rec, _ := f.do(t, "/get", c); rec.Body.String() != "writeheader" {
		t.Fatalf("value of the new session: got %q, want %q", rec.Body.String(), "writeheader")
	}
}

// When the session cannot be saved, Hijack fails with the store error and
// leaves the connection to net/http, which sends the error response.
func TestHijackRefusedWhenTheSessionCannotBeSaved(t *testing.T) {
	f := newFixture(t, nil)
	f.h = hijackApp(t, f)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	_, c := f.do(t, "/login", "")
	f.store.down.Store(true)
	for _, mode := range []string{"hijacker", "controller", "writeheader"} {
		t.Run(mode, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/ws/"+mode, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "test")
			req.AddCookie(&http.Cookie{Name: "sid", Value: c})
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("upgrade during a store outage: got %d, want 503", resp.StatusCode)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options on the error: got %q, want DENY", got)
			}
		})
	}
}

func TestHijackNotSupported(t *testing.T) {
	f := newFixture(t, nil)
	var got error
	h := secheaders.Default(false).Handler(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, got = w.(http.Hijacker).Hijack()
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) // a recorder cannot hijack
	if !errors.Is(got, http.ErrNotSupported) {
		t.Fatalf("Hijack on a writer that cannot: got %v, want an error wrapping http.ErrNotSupported", got)
	}
}

// readFromRecorder is a ResponseWriter with a ReadFrom, as net/http's is.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	calls     int
	cookieSet bool // Set-Cookie was in the header when ReadFrom ran
}

func (w *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.calls++
	w.cookieSet = w.Header().Get("Set-Cookie") != ""
	return io.Copy(w.ResponseRecorder, src)
}

// io.Copy onto the session's writer reaches the server's ReadFrom (its
// sendfile path) through tether and secheaders, after the session is saved.
func TestReadFromSavesThenDelegates(t *testing.T) {
	f := newFixture(t, nil)
	h := secheaders.Default(false).Handler(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("a", 1)
		// A LimitedReader has no WriteTo, so io.Copy uses the writer's ReadFrom.
		if _, err := io.Copy(w, io.LimitReader(strings.NewReader("file body"), 100)); err != nil {
			t.Errorf("io.Copy: %v", err)
		}
	})))
	w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.calls != 1 || !w.cookieSet {
		t.Fatalf("underlying ReadFrom: got %d calls (Set-Cookie present: %v), want 1 call after the session was saved", w.calls, w.cookieSet)
	}
	if got := w.Body.String(); got != "file body" {
		t.Fatalf("body: got %q, want %q", got, "file body")
	}
	if f.mem.Len() != 1 {
		t.Fatalf("records: got %d, want 1", f.mem.Len())
	}
}

package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/examples/internal/exampletest"
	"github.com/tetherhq/tether/memstore"
	"github.com/tetherhq/tether/secheaders"
)

// greeting is the first message a socket handler sends: the user's name,
// read from the session.
func greeting(s *tether.Session) string { return "hello " + s.GetString("name") }

// beforeUpgrade checks the session and changes it, as a socket handler
// would before it upgrades. It answers 401 and reports false for a request
// that is not signed in.
func beforeUpgrade(w http.ResponseWriter, r *http.Request, lib string) (*tether.Session, bool) {
	s := tether.FromContext(r.Context())
	if s.UserID() == "" {
		http.Error(w, "Not signed in", http.StatusUnauthorized)
		return nil, false
	}
	if err := s.Set("lastSocket", lib); err != nil { // saved when the connection is hijacked
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return nil, false
	}
	return s, true
}

// newServer is a tether app with a socket endpoint per library, behind
// secheaders, the session middleware and the CSRF protector.
func newServer(t *testing.T) http.Handler {
	t.Helper()
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		fmt.Fprintf(w, `{"csrfToken":%q}`, tok)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := errors.Join(s.Login("user-1", "user"), s.Set("name", r.PostFormValue("username"))); err != nil {
			m.Error(w, r, err)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "lastSocket=%s", tether.FromContext(r.Context()).GetString("lastSocket"))
	})
	upgrader := gorilla.Upgrader{} // the default CheckOrigin refuses other origins
	mux.HandleFunc("GET /ws/gorilla", func(w http.ResponseWriter, r *http.Request) {
		s, ok := beforeUpgrade(w, r, "gorilla")
		if !ok {
			return
		}
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client (403 for another origin)
		}
		defer c.Close()
		if err := c.WriteMessage(gorilla.TextMessage, []byte(greeting(s))); err != nil {
			return
		}
		for { // echo until the client closes
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	})
	// The /ws/new/… endpoints start a session in the upgrade request itself,
	// then greet and close: they show which handshakes carry its cookie.
	newSession := func(r *http.Request) error {
		return tether.FromContext(r.Context()).Set("lastSocket", "new")
	}
	mux.HandleFunc("GET /ws/new/gorilla", func(w http.ResponseWriter, r *http.Request) {
		if err := newSession(r); err != nil {
			m.Error(w, r, err)
			return
		}
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(gorilla.TextMessage, []byte("hello"))
	})
	mux.HandleFunc("GET /ws/new/gorilla-header", func(w http.ResponseWriter, r *http.Request) {
		if err := newSession(r); err != nil {
			m.Error(w, r, err)
			return
		}
		// Upgrade reads the headers it is given after it has hijacked the
		// connection, when tether has put the session's Set-Cookie there.
		c, err := upgrader.Upgrade(w, r, w.Header())
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(gorilla.TextMessage, []byte("hello"))
	})
	mux.HandleFunc("GET /ws/new/coder", func(w http.ResponseWriter, r *http.Request) {
		if err := newSession(r); err != nil {
			m.Error(w, r, err)
			return
		}
		c, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = c.Write(r.Context(), coder.MessageText, []byte("hello"))
		_ = c.Close(coder.StatusNormalClosure, "")
	})
	mux.HandleFunc("GET /ws/coder", func(w http.ResponseWriter, r *http.Request) {
		s, ok := beforeUpgrade(w, r, "coder")
		if !ok {
			return
		}
		c, err := coder.Accept(w, r, nil) // nil options: only the request's own origin
		if err != nil {
			return // Accept has answered the client (403 for another origin)
		}
		defer c.CloseNow()
		ctx := r.Context()
		if err := c.Write(ctx, coder.MessageText, []byte(greeting(s))); err != nil {
			return
		}
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
	return secheaders.Default(false).Handler(m.Handler(p.Handler(mux)))
}

// socket is one client connection, whichever library made it.
type socket interface {
	send(string) error
	recv() (string, error)
	close()
}

type gorillaSocket struct{ c *gorilla.Conn }

func (s gorillaSocket) send(m string) error { return s.c.WriteMessage(gorilla.TextMessage, []byte(m)) }
func (s gorillaSocket) recv() (string, error) {
	_ = s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := s.c.ReadMessage()
	return string(b), err
}
func (s gorillaSocket) close() { _ = s.c.Close() }

type coderSocket struct{ c *coder.Conn }

func (s coderSocket) send(m string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.c.Write(ctx, coder.MessageText, []byte(m))
}
func (s coderSocket) recv() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := s.c.Read(ctx)
	return string(b), err
}
func (s coderSocket) close() { _ = s.c.Close(coder.StatusNormalClosure, "") }

// dialer opens a socket to url with the browser's cookies and the given
// Origin header; it returns the handshake's status even when it fails.
type dialer func(t *testing.T, b *exampletest.Browser, url, origin string) (socket, int, error)

func dialGorilla(t *testing.T, b *exampletest.Browser, u, origin string) (socket, int, error) {
	d := gorilla.Dialer{Jar: b.Client.Jar, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial(u, http.Header{"Origin": {origin}})
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	if err != nil {
		return nil, status, err
	}
	return gorillaSocket{c}, status, nil
}

func dialCoder(t *testing.T, b *exampletest.Browser, u, origin string) (socket, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, res, err := coder.Dial(ctx, u, &coder.DialOptions{HTTPClient: b.Client, HTTPHeader: http.Header{"Origin": {origin}}})
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	if err != nil {
		return nil, status, err
	}
	return coderSocket{c}, status, nil
}

// TestUpgradeBehindTether: each server library, dialled by each client
// library, upgrades behind secheaders + Manager + csrf, greets the user by
// the name in the session, echoes, and the change its handler made to the
// session before the upgrade is saved. Without Hijack support in tether's
// and secheaders' writers, every upgrade fails with 500 ("response does not
// implement http.Hijacker").
func TestUpgradeBehindTether(t *testing.T) {
	clients := []struct {
		name string
		dial dialer
	}{{"gorilla client", dialGorilla}, {"coder client", dialCoder}}
	for _, lib := range []string{"gorilla", "coder"} {
		for _, cl := range clients {
			t.Run(lib+" server, "+cl.name, func(t *testing.T) {
				b := exampletest.NewBrowser(t, newServer(t))
				wsURL := "ws" + strings.TrimPrefix(b.URL, "http") + "/ws/" + lib

				if _, status, err := cl.dial(t, b, wsURL, b.URL); err == nil || status != http.StatusUnauthorized {
					t.Fatalf("signed out: got status %d, error %v; want 401 and no socket", status, err)
				}

				b.FetchCSRF()
				b.Expect("POST", "/login", url.Values{"username": {"alice"}}, http.StatusOK)
				ws, status, err := cl.dial(t, b, wsURL, b.URL)
				if err != nil || status != http.StatusSwitchingProtocols {
					t.Fatalf("signed in: got status %d, error %v; want 101", status, err)
				}
				if got, err := ws.recv(); got != "hello alice" {
					t.Fatalf("first message: got %q (%v), want %q", got, err, "hello alice")
				}
				if err := ws.send("ping"); err != nil {
					t.Fatalf("send: %v", err)
				}
				if got, err := ws.recv(); got != "ping" {
					t.Fatalf("echo: got %q (%v), want %q", got, err, "ping")
				}
				ws.close()

				b.Expect("GET", "/state", nil, http.StatusOK, "lastSocket="+lib)
			})
		}
	}
}

// TestCrossOriginHandshakeRefused: the CSRF protector lets a GET through,
// so a page on another site could open a socket with the user's cookie;
// both libraries' default origin checks refuse it.
func TestCrossOriginHandshakeRefused(t *testing.T) {
	for _, lib := range []string{"gorilla", "coder"} {
		t.Run(lib, func(t *testing.T) {
			b := exampletest.NewBrowser(t, newServer(t))
			b.FetchCSRF()
			b.Expect("POST", "/login", url.Values{"username": {"alice"}}, http.StatusOK)
			wsURL := "ws" + strings.TrimPrefix(b.URL, "http") + "/ws/" + lib
			if _, status, err := dialGorilla(t, b, wsURL, "https://evil.example"); err == nil || status != http.StatusForbidden {
				t.Fatalf("Origin https://evil.example: got status %d, error %v; want 403 and no socket", status, err)
			}
		})
	}
}

// TestSessionStartedByTheHandshake: a session created (or given a new token)
// by the upgrade request itself is saved at the hijack, but its cookie
// reaches the client only in a handshake that carries the response's
// headers: coder's Accept (which writes the 101 through the writer) and
// gorilla's Upgrade given w.Header(), not gorilla's Upgrade given nil.
func TestSessionStartedByTheHandshake(t *testing.T) {
	for _, tc := range []struct {
		path       string
		wantCookie bool
	}{
		{"/ws/new/coder", true},
		{"/ws/new/gorilla-header", true},
		{"/ws/new/gorilla", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			b := exampletest.NewBrowser(t, newServer(t))
			ws, status, err := dialGorilla(t, b, "ws"+strings.TrimPrefix(b.URL, "http")+tc.path, b.URL)
			if err != nil || status != http.StatusSwitchingProtocols {
				t.Fatalf("got status %d, error %v; want 101", status, err)
			}
			if got, err := ws.recv(); got != "hello" {
				t.Fatalf("first message: got %q (%v), want hello", got, err)
			}
			ws.close()
			gotCookie := b.SessionCookie("sid") != ""
			if gotCookie != tc.wantCookie {
				t.Fatalf("session cookie after the handshake: got %v, want %v", gotCookie, tc.wantCookie)
			}
			want := "lastSocket="
			if tc.wantCookie {
				want += "new" // the session the handshake created, found again by its cookie
			}
			if _, body := b.Do("GET", "/state", nil); body != want {
				t.Fatalf("GET /state: got %q, want %q", body, want)
			}
		})
	}
}

package tether_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// messageLoop is the body of a WebSocket handler once the connection is
// open: each message is one unit of work on the session (Load, use, Save),
// and the cookie value Save returns names the session for the next one. A
// session that ends meanwhile (a logout in another tab, a revocation) ends
// the loop at the next message instead of being written to.
func messageLoop(ctx context.Context, m *tether.Manager, handshake *http.Request, cookie string, messages <-chan string, reply func(string)) error {
	for msg := range messages {
		s, err := m.LoadRequest(ctx, handshake, cookie) // events carry the handshake's client IP
		if err != nil {
			return err // ErrSessionEnded, ErrInvalidCookie: close the connection
		}
		n, err := s.Incr(ctx, "messages", 1) // atomic in the store
		if err != nil {
			return err
		}
		reply(fmt.Sprintf("%s #%d: %s", s.UserID(), n, msg))
		if cookie, err = s.Save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// A WebSocket-like message loop keeps a per-session counter that the
// browser's ordinary requests see too, and stops once the user logs out.
func ExampleManager_Load() {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(),
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}, // 32 random bytes in real life
	})
	if err != nil {
		log.Fatal(err)
	}
	messages, replies := make(chan string), make(chan string)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("alice", "")
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, tether.FromContext(r.Context()).GetInt64("messages"))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout()
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		// A real handler upgrades the connection here and reads its
		// messages; this one reads them from a channel.
		cookie, err := m.RequestCookie(r) // refuses a duplicate cookie
		if err != nil {
			m.Error(w, r, err)
			return
		}
		err = messageLoop(context.Background(), m, r, cookie, messages, func(s string) { replies <- s })
		switch {
		case errors.Is(err, tether.ErrSessionEnded):
			fmt.Println("loop: session ended, connection closed")
		case err != nil:
			fmt.Println("loop:", err)
		}
	})
	app := m.Handler(mux)

	// The browser signs in over HTTP and keeps its cookie.
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	cookie := rec.Result().Cookies()[0]
	request := func(method, path string) string {
		req := httptest.NewRequest(method, path, nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec.Body.String()
	}

	done := make(chan struct{})
	go func() { request("GET", "/ws"); close(done) }() // the WebSocket connection
	messages <- "hello"
	fmt.Println(<-replies)
	messages <- "how are you?"
	fmt.Println(<-replies)
	fmt.Println("counter seen over HTTP:", request("GET", "/count"))
	request("POST", "/logout") // in another tab
	messages <- "still there?"
	<-done
	// Output:
	// alice #1: hello
	// alice #2: how are you?
	// counter seen over HTTP: 2
	// loop: session ended, connection closed
}

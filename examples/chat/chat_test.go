package chat_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tetherhq/tether/examples/chat"
	"github.com/tetherhq/tether/examples/internal/exampletest"
)

// user is a signed-in browser with its chat socket.
type user struct {
	t    *testing.T
	b    *exampletest.Browser
	conn *websocket.Conn
}

func wsURL(b *exampletest.Browser) string { return "ws" + strings.TrimPrefix(b.URL, "http") + "/ws" }

// dial opens the chat socket with the browser's cookies.
func dial(b *exampletest.Browser) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, wsURL(b), &websocket.DialOptions{HTTPClient: b.Client})
}

// signIn logs name in on a new browser and opens its socket.
func signIn(t *testing.T, base, name, password string) *user {
	t.Helper()
	b := exampletest.NewBrowserFor(t, base)
	b.FetchCSRF()
	b.Expect("POST", "/login", url.Values{"username": {name}, "password": {password}}, http.StatusOK, `"user":"`+name+`"`)
	b.FetchCSRF() // the login dropped the pre-login token (issue 11 row 4)
	c, res, err := dial(b)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s: handshake: got %d, want 101", name, res.StatusCode)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &user{t: t, b: b, conn: c}
}

func (u *user) expect(want chat.Message) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got chat.Message
	if err := wsjson.Read(ctx, u.conn, &got); err != nil {
		u.t.Fatalf("waiting for %+v: %v", want, err)
	}
	if got != want {
		u.t.Fatalf("got %+v, want %+v", got, want)
	}
}

func (u *user) say(v any) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, u.conn, v); err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// TestChat: alice and bob sign in over HTTP, chat over their sockets under
// the names in their sessions, and alice's logout closes her socket.
func TestChat(t *testing.T) {
	h, err := chat.New(exampletest.Manager(t))
	if err != nil {
		t.Fatalf("chat.New: %v", err)
	}
	anon := exampletest.NewBrowser(t, h)
	base := anon.URL

	if _, res, err := dial(anon); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed out: got %v, %v; want a 401 handshake", res, err)
	}

	alice := signIn(t, base, exampletest.DemoUser, exampletest.DemoPassword)
	alice.expect(chat.Message{Kind: "welcome", From: "alice"})
	alice.expect(chat.Message{Kind: "join", From: "alice"})

	bob := signIn(t, base, "bob", "tr0ub4dor&3 is not enough")
	bob.expect(chat.Message{Kind: "welcome", From: "bob"})
	bob.expect(chat.Message{Kind: "join", From: "bob"})
	alice.expect(chat.Message{Kind: "join", From: "bob"})

	// The name comes from the session: a "from" in the message is ignored.
	alice.say(map[string]string{"text": "hi bob", "from": "mallory"})
	alice.expect(chat.Message{Kind: "message", From: "alice", Text: "hi bob"})
	bob.expect(chat.Message{Kind: "message", From: "alice", Text: "hi bob"})
	bob.say(map[string]string{"text": "hi alice"})
	bob.expect(chat.Message{Kind: "message", From: "bob", Text: "hi alice"})
	alice.expect(chat.Message{Kind: "message", From: "bob", Text: "hi alice"})

	// Logging out ends the session and closes the socket it opened.
	alice.b.Expect("POST", "/logout", nil, http.StatusOK, `"ok":true`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m chat.Message
	// The server closes with status 1000 "signed out" (a complete close
	// handshake), which coder's client reports now as that close frame,
	// now as the end of the connection: either way closed, not timing out.
	if err := wsjson.Read(ctx, alice.conn, &m); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("alice's socket after logout: got %+v, %v; want it closed", m, err)
	}
	bob.expect(chat.Message{Kind: "leave", From: "alice"})
	if _, res, err := dial(alice.b); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("alice after logout: got %v, %v; want a 401 handshake", res, err)
	}

	// Bob is still there.
	bob.say(map[string]string{"text": "bye"})
	bob.expect(chat.Message{Kind: "message", From: "bob", Text: "bye"})
}

// A message over the size limit closes the sender's socket.
func TestOversizedMessageClosesSocket(t *testing.T) {
	h, err := chat.New(exampletest.Manager(t))
	if err != nil {
		t.Fatalf("chat.New: %v", err)
	}
	base := exampletest.NewBrowser(t, h).URL
	alice := signIn(t, base, exampletest.DemoUser, exampletest.DemoPassword)
	alice.expect(chat.Message{Kind: "welcome", From: "alice"})
	alice.expect(chat.Message{Kind: "join", From: "alice"})
	alice.say(map[string]string{"text": strings.Repeat("x", 5000)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m chat.Message
	err = wsjson.Read(ctx, alice.conn, &m)
	if status := websocket.CloseStatus(err); status != websocket.StatusMessageTooBig {
		t.Fatalf("after a 5000-byte message: got %+v, %v, want close status %v", m, err, websocket.StatusMessageTooBig)
	}
}

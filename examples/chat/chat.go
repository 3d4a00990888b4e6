// Package chat is a WebSocket chat on tether and github.com/coder/websocket:
// users sign in over HTTP, then open a socket, and every message they send
// is shown to everyone under the name kept in their session, never a name
// the client claims.
//
// The socket endpoint is an ordinary handler behind the session middleware
// and the CSRF protector:
//
//	m.Handler(p.Handler(mux))
//
// It reads the session before the upgrade (tether saves the session when the
// connection is taken, so a change made before websocket.Accept is kept),
// answers 401 if the user is not signed in, and only then upgrades.
// websocket.Accept refuses a handshake from another origin by default: keep
// it so, since the CSRF protector lets the handshake's GET through and the
// origin check is what stops cross-site WebSocket hijacking.
//
// A socket outlives the request that opened it, and the session is not read
// again while it is open. Logging out here closes the sockets opened with
// that session (on this instance); an app that must also notice expiry or
// an administrator ending a session re-checks it from the message loop,
// loading it by its cookie value (tether's Manager.Load).
//
// Routes:
//
//	GET  /csrf-token  {"csrfToken":"…"}: the token to send back as X-CSRF-Token
//	POST /login       form username, password → {"user":"alice"} (401 if wrong)
//	GET  /ws          the chat socket (401 when signed out)
//	POST /logout      {"ok":true}: the session ends and its sockets close
//
// On the socket, the client sends {"text":"…"} and receives [Message]s:
// a "welcome" with its own name, then "join", "message" and "leave" for
// everyone. A client that reads too slowly is disconnected rather than
// slowing the others down.
//
// # Real use
//
// The tests use memstore. A server keeps sessions in SQLite (one instance)
// or Redis (several), with a secret of at least 32 random bytes:
//
//	store, err := sqlitestore.Open("data/tether.db", sqlitestore.Options{})
//	// or: store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), redisstore.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	m, err := tether.New(tether.Config{Store: store, Secrets: [][]byte{secret}, Production: true})
//	if err != nil {
//		log.Fatal(err) // every misconfiguration at once
//	}
//	h, err := chat.New(m)
//	if err != nil {
//		log.Fatal(err)
//	}
//	log.Fatal(http.ListenAndServe(":8080", h))
//
// One instance holds one room; several instances need a broadcast between
// them (Redis pub/sub, NATS), which this example leaves out.
package chat

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
)

// The demo accounts, name → password. A real app looks the user up in its
// database and verifies a password hash (argon2id, as tether's reference
// server does) behind login throttling; it never keeps or compares plain
// passwords.
var demoUsers = map[string]string{
	"alice": "correct horse battery staple",
	"bob":   "tr0ub4dor&3 is not enough",
}

// checkPassword reports whether name and password are a demo account's; the
// password is compared in constant time.
func checkPassword(name, password string) bool {
	want, ok := demoUsers[name]
	return ok && subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
}

// Limits of a socket.
const (
	maxMessageBytes = 4 << 10         // a longer message closes the socket
	outboxSize      = 32              // messages queued for a client before it counts as too slow
	writeTimeout    = 5 * time.Second // per message
)

// Message is what the server sends on a socket.
type Message struct {
	// Kind is "welcome" (to the new member only), "join", "message" or "leave".
	Kind string `json:"kind"`
	// From is the sender's name, from their session.
	From string `json:"from"`
	Text string `json:"text,omitempty"`
}

// member is one open socket.
type member struct {
	name    string
	session string // public ID of the session that opened it
	out     chan Message
	kick    context.CancelCauseFunc // ends the socket: errTooSlow, errSignedOut, or the read error
}

// Why the server ends a socket.
var (
	errTooSlow   = errors.New("too slow")
	errSignedOut = errors.New("signed out")
)

// room is the set of open sockets. Its methods are safe for concurrent use.
type room struct {
	mu      sync.Mutex
	members map[*member]struct{}
}

// broadcast queues msg for every member; one whose queue is full is
// disconnected.
func (r *room) broadcast(msg Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for mb := range r.members {
		select {
		case mb.out <- msg:
		default:
			mb.kick(errTooSlow)
		}
	}
}

func (r *room) join(mb *member) {
	r.mu.Lock()
	r.members[mb] = struct{}{}
	r.mu.Unlock()
	r.broadcast(Message{Kind: "join", From: mb.name})
}

func (r *room) leave(mb *member) {
	r.mu.Lock()
	delete(r.members, mb)
	r.mu.Unlock()
	r.broadcast(Message{Kind: "leave", From: mb.name})
}

// endSession disconnects the sockets opened with the session whose public
// ID is id.
func (r *room) endSession(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for mb := range r.members {
		if mb.session == id {
			mb.kick(errSignedOut)
		}
	}
}

// New returns the chat app inside m's session middleware and a CSRF
// protector. It fails only if the CSRF protector cannot be built.
func New(m *tether.Manager) (http.Handler, error) {
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	rm := &room{members: map[*member]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /csrf-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r) // creates the session on first use
		if err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"csrfToken": tok})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		name := r.PostFormValue("username")
		if !checkPassword(name, r.PostFormValue("password")) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Wrong username or password"})
			return
		}
		s := tether.FromContext(r.Context())
		// Login issues a new token (the pre-login one dies at once) and
		// keeps the session's values, its CSRF token among them.
		if err := s.Login("user-"+name, "user"); err != nil {
			m.Error(w, r, err)
			return
		}
		if err := s.Set("name", name); err != nil {
			m.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"user": name})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		id := s.PublicID()
		s.Logout() // record deleted, cookie expired
		if id != "" {
			rm.endSession(id)
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Err(); err != nil {
			m.Error(w, r, err) // a store outage is a 503, not a signed-out user
			return
		}
		if s.UserID() == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Not signed in"})
			return
		}
		name, id := s.GetString("name"), s.PublicID()
		c, err := websocket.Accept(w, r, nil) // nil options: this origin only
		if err != nil {
			return // Accept has answered the client
		}
		defer c.CloseNow()
		c.SetReadLimit(maxMessageBytes)

		// ctx ends the socket when kicked; the reader keeps r's context so
		// that it is still reading when Close waits for the client's answer.
		ctx, kick := context.WithCancelCause(r.Context())
		defer kick(nil)
		mb := &member{name: name, session: id, out: make(chan Message, outboxSize), kick: kick}
		mb.out <- Message{Kind: "welcome", From: name}
		rm.join(mb)
		defer rm.leave(mb)

		go func() { // read what the client says; the name is the session's
			for {
				var in struct {
					Text string `json:"text"`
				}
				if err := wsjson.Read(r.Context(), c, &in); err != nil {
					kick(err)
					return
				}
				if in.Text != "" {
					rm.broadcast(Message{Kind: "message", From: name, Text: in.Text})
				}
			}
		}()
		for {
			select {
			case <-ctx.Done():
				switch cause := context.Cause(ctx); cause {
				case errSignedOut:
					_ = c.Close(websocket.StatusNormalClosure, cause.Error())
				case errTooSlow:
					_ = c.Close(websocket.StatusPolicyViolation, cause.Error())
				}
				return // otherwise the read failed: the socket is closed already
			case msg := <-mb.out:
				wctx, cancel := context.WithTimeout(ctx, writeTimeout)
				err := wsjson.Write(wctx, c, msg)
				cancel()
				if err != nil {
					return
				}
			}
		}
	})
	return m.Handler(p.Handler(mux)), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package tether_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// browser sends requests to h and keeps the cookies it is given, as a
// browser would: the examples below use it to show a few requests in a row.
type browser struct {
	h   http.Handler
	jar map[string]*http.Cookie
}

func newBrowser(h http.Handler) *browser { return &browser{h: h, jar: map[string]*http.Cookie{}} }

func (b *browser) do(method, path string) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	for _, c := range b.jar {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	return res
}

func (b *browser) body(method, path string) string {
	res := b.do(method, path)
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return strings.TrimSpace(buf.String())
}

// exampleManager returns a Manager on an in-memory store, as tests and
// examples use; a server uses sqlitestore, redisstore or pgstore.
func exampleManager(onEvent func(tether.Event)) *tether.Manager {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(),
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}, // 32 random bytes in real life
		OnEvent: onEvent,
	})
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// A counter kept in the session: the first request creates the session and
// sets the cookie; the next one, carrying the cookie, increments atomically.
func Example() {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(), // sqlitestore or redisstore in a real server
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /views", func(w http.ResponseWriter, r *http.Request) {
		n, err := tether.FromContext(r.Context()).Incr(r.Context(), "views", 1)
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		fmt.Fprintf(w, `{"views":%d}`, n)
	})
	b := newBrowser(m.Handler(mux))
	fmt.Println(b.body("GET", "/views"))
	fmt.Println(b.body("GET", "/views"))
	// Output:
	// {"views":1}
	// {"views":2}
}

// Misconfiguration fails at start-up, every problem at once, with the field
// that is wrong.
func ExampleNew() {
	_, err := tether.New(tether.Config{
		Store:      memstore.New(),
		Secrets:    [][]byte{[]byte("too short")},
		Production: true,
	})
	fmt.Println(err)
	// Output:
	// tether: Config.Store *memstore.Store is for development only and cannot be used in production; use a persistent store such as sqlitestore or redisstore
	// tether: Config.Secrets[0] is 9 bytes; production needs at least 32 random bytes
}

// Handler wraps the whole application; handlers find their session with
// FromContext. Routes that must never touch the store (health checks) can
// sit outside it.
func ExampleManager_Handler() {
	m := exampleManager(nil)
	app := http.NewServeMux()
	app.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		fmt.Fprintf(w, "new session: %v", s.IsNew())
	})
	top := http.NewServeMux()
	top.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	top.Handle("/", m.Handler(app))

	b := newBrowser(top)
	fmt.Println(b.body("GET", "/healthz"))
	fmt.Println(b.body("GET", "/hello"))
	// Output:
	// ok
	// new session: true
}

// Values are stored as JSON: any encodable value goes in with Set and comes
// back with Get, or with a typed getter for the common kinds.
func ExampleSession_Get() {
	type cart struct {
		Items []string `json:"items"`
	}
	m := exampleManager(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fill", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		err := s.Set("cart", cart{Items: []string{"tea", "cups"}})
		if err == nil {
			err = s.Set("theme", "dark")
		}
		if err == nil {
			err = s.Set("beta", true)
		}
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
		}
	})
	mux.HandleFunc("GET /show", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		var c cart
		found, err := s.Get("cart", &c)
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		fmt.Fprintf(w, "cart %v %v, theme %q, beta %v, missing %d",
			found, c.Items, s.GetString("theme"), s.GetBool("beta"), s.GetInt64("nothing"))
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/fill")
	fmt.Println(b.body("GET", "/show"))
	// Output:
	// cart true [tea cups], theme "dark", beta true, missing 0
}

// Remove deletes one value; only that key is saved, so a concurrent request
// that changes another key of the same session keeps its change.
func ExampleSession_Remove() {
	m := exampleManager(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Set("a", 1)
		_ = s.Set("b", 2)
	})
	mux.HandleFunc("POST /remove", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Remove("a")
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, tether.FromContext(r.Context()).Keys())
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/set")
	fmt.Println(b.body("GET", "/keys"))
	b.do("POST", "/remove")
	fmt.Println(b.body("GET", "/keys"))
	// Output:
	// [a b]
	// [b]
}

// Regenerate gives the session a new token and keeps its values: the old
// cookie stops working at once. Use it whenever the privilege level changes
// (Login does it for you).
func ExampleSession_Regenerate() {
	m := exampleManager(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("step", "one")
	})
	mux.HandleFunc("POST /elevate", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Regenerate(); err != nil {
			tether.DefaultErrorHandler(w, r, err)
		}
	})
	mux.HandleFunc("GET /step", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "step %q", tether.FromContext(r.Context()).GetString("step"))
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/start")
	old := *b.jar["sid"]
	b.do("POST", "/elevate")
	fmt.Println("cookie changed:", b.jar["sid"].Value != old.Value)
	fmt.Println("new cookie:", b.body("GET", "/step"))

	stolen := newBrowser(m.Handler(mux))
	stolen.jar["sid"] = &old
	fmt.Println("old cookie:", stolen.body("GET", "/step"))
	// Output:
	// cookie changed: true
	// new cookie: step "one"
	// old cookie: step ""
}

// Destroy ends the session when the response starts: the record is deleted
// and the cookie expired in the same response.
func ExampleSession_Destroy() {
	m := exampleManager(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Set("x", 1)
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Destroy()
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/start")
	res := b.do("POST", "/forget")
	for _, c := range res.Cookies() {
		fmt.Printf("%s expired: %v\n", c.Name, c.MaxAge < 0)
	}
	fmt.Println("cookie left in the browser:", len(b.jar))
	// Output:
	// sid expired: true
	// cookie left in the browser: 0
}

// Login regenerates the session (a new token; the old one stops working at
// once) and Logout destroys it. Both are reported as security events.
func ExampleSession_Logout() {
	var events []string
	m := exampleManager(func(e tether.Event) { events = append(events, e.Type) })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// … verify the password first …
		s := tether.FromContext(r.Context())
		if err := errors.Join(s.Login("user-1001", "user"), s.Set("username", "alice")); err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if s.UserID() == "" {
			tether.WriteJSONError(w, http.StatusUnauthorized, "Not authenticated")
			return
		}
		fmt.Fprintf(w, `{"userId":%q,"username":%q}`, s.UserID(), s.GetString("username"))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		tether.FromContext(r.Context()).Logout()
		fmt.Fprint(w, `{"ok":true}`)
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/login")
	fmt.Println(b.body("GET", "/profile"))
	b.do("POST", "/logout")
	fmt.Println(b.body("GET", "/profile"))
	fmt.Println(events)
	// Output:
	// {"userId":"user-1001","username":"alice"}
	// {"error":"Not authenticated"}
	// [session_regenerated login_success logout]
}

// A user signed in on two devices sees both ("my devices") and signs the
// other one out. Both need a store with a per-user index (every store in
// this module has one).
func ExampleManager_UserSessions() {
	m := exampleManager(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = tether.FromContext(r.Context()).Login("user-1001", "")
	})
	mux.HandleFunc("GET /devices", func(w http.ResponseWriter, r *http.Request) {
		list, err := m.UserSessions(r.Context(), tether.FromContext(r.Context()).UserID())
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		fmt.Fprintf(w, "%d sessions", len(list))
	})
	mux.HandleFunc("POST /sign-out-others", func(w http.ResponseWriter, r *http.Request) {
		n, err := tether.FromContext(r.Context()).EndOtherSessions(r.Context())
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		fmt.Fprintf(w, "ended %d", n)
	})
	laptop, phone := newBrowser(m.Handler(mux)), newBrowser(m.Handler(mux))
	laptop.do("POST", "/login")
	phone.do("POST", "/login")
	fmt.Println(laptop.body("GET", "/devices"))
	fmt.Println(laptop.body("POST", "/sign-out-others"))
	fmt.Println(laptop.body("GET", "/devices"))

	// An administrator, outside any request, can end them all.
	n, _ := m.EndUserSessions(context.Background(), "user-1001")
	fmt.Println("admin ended", n)
	// Output:
	// 2 sessions
	// ended 1
	// 1 sessions
	// admin ended 1
}

// Two Managers on one request, a user area's and an admin area's with their
// own cookies: each finds its own session through its FromContext.
func ExampleManager_FromContext() {
	newManager := func(cookie string) *tether.Manager {
		m, err := tether.New(tether.Config{
			Store:      memstore.New(),
			Secrets:    [][]byte{bytes.Repeat([]byte("k"), 32)},
			CookieName: cookie,
		})
		if err != nil {
			log.Fatal(err)
		}
		return m
	}
	users, admins := newManager("sid"), newManager("admin_sid")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = users.FromContext(r.Context()).Login("carol", "")
		_ = admins.FromContext(r.Context()).Login("carol", "admin")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, a := users.FromContext(r.Context()), admins.FromContext(r.Context())
		fmt.Fprintf(w, "user area: %s, admin area: %s", u.UserID(), a.UserID())
	})
	mux.HandleFunc("POST /admin/logout", func(w http.ResponseWriter, r *http.Request) {
		admins.FromContext(r.Context()).Logout() // the user area stays signed in
	})
	b := newBrowser(users.Handler(admins.Handler(mux)))
	b.do("POST", "/login")
	fmt.Println(b.body("GET", "/whoami"))
	b.do("POST", "/admin/logout")
	fmt.Println(b.body("GET", "/whoami"))
	// Output:
	// user area: carol, admin area: carol
	// user area: carol, admin area:
}

// A change after the response has started cannot be saved any more, and
// says so instead of being lost.
func ExampleErrResponseStarted() {
	m := exampleManager(nil)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		_ = s.Set("step", "one") // saved before the first byte
		fmt.Fprintln(w, "hello")
		err := s.Set("step", "two") // too late
		fmt.Println(errors.Is(err, tether.ErrResponseStarted))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output: true
}

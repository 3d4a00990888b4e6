package tether_test

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

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
	h := m.Handler(mux)

	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest("GET", "/views", nil))
	fmt.Println(first.Body.String())

	again := httptest.NewRequest("GET", "/views", nil)
	for _, c := range first.Result().Cookies() {
		again.AddCookie(c)
	}
	second := httptest.NewRecorder()
	h.ServeHTTP(second, again)
	fmt.Println(second.Body.String())
	// Output:
	// {"views":1}
	// {"views":2}
}

// Login regenerates the session (a new token; the old one stops working at
// once) and Logout destroys it.
func ExampleSession_Login() {
	m, _ := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// … verify the password first …
		s := tether.FromContext(r.Context())
		if err := s.Login("user-1001", "user"); err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
			return
		}
		_ = s.Set("username", "alice")
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
	h := m.Handler(mux)

	send := func(method, path string, cookies []*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	login := send("POST", "/login", nil)
	jar := login.Result().Cookies()
	fmt.Println(send("GET", "/profile", jar).Body.String())
	send("POST", "/logout", jar)
	fmt.Println(send("GET", "/profile", jar).Body.String())
	// Output:
	// {"userId":"user-1001","username":"alice"}
	// {"error":"Not authenticated"}
}

package tether_test

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// Browser-session cookies by default, and a persistent one for users who
// tick "remember me" at login: the choice is stored with the session, so
// later responses keep it.
func ExampleCookieMode() {
	m, err := tether.New(tether.Config{
		Store:      memstore.New(), // sqlitestore or redisstore in a real server
		Secrets:    [][]byte{bytes.Repeat([]byte("k"), 32)},
		CookieMode: tether.CookieSession, // gone when the browser closes
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Login("alice", ""); err != nil { // after checking the password
			m.Error(w, r, err)
			return
		}
		if r.URL.Query().Get("remember") == "1" {
			if err := s.SetPersistent(true); err != nil {
				m.Error(w, r, err)
				return
			}
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, tether.FromContext(r.Context()).UserID())
	})
	show := func(what string, res *http.Response) {
		sc := res.Header.Get("Set-Cookie")
		switch {
		case sc == "":
			fmt.Printf("%s: no Set-Cookie\n", what)
		case strings.Contains(sc, "Max-Age="):
			fmt.Printf("%s: persistent cookie\n", what)
		default:
			fmt.Printf("%s: browser-session cookie\n", what)
		}
	}
	plain, remembered := newBrowser(m.Handler(mux)), newBrowser(m.Handler(mux))
	show("login", plain.do("POST", "/login"))
	show("next request", plain.do("GET", "/me"))
	show("login, remember me", remembered.do("POST", "/login?remember=1"))
	show("next request", remembered.do("GET", "/me"))
	// Output:
	// login: browser-session cookie
	// next request: no Set-Cookie
	// login, remember me: persistent cookie
	// next request: no Set-Cookie
}

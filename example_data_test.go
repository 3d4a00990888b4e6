package tether_test

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// The typed getters read back what Set stored, in the next request: times
// keep their instant and offset, integers stay exact beyond 2^53, bytes
// travel as base64. A missing key, or one of another type, reads as the zero
// value; Get tells the two apart.
func ExampleSession_GetTime() {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(), // sqlitestore or redisstore in a real server
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /save", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		for k, v := range map[string]any{
			"seen":  time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("CET", 3600)),
			"id":    int64(1)<<53 + 1, // a float64 would round it
			"ratio": 0.25,
			"key":   []byte{0xde, 0xad, 0xbe, 0xef},
			"name":  "alice",
		} {
			if err := s.Set(k, v); err != nil {
				tether.DefaultErrorHandler(w, r, err)
				return
			}
		}
	})
	mux.HandleFunc("GET /show", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		fmt.Fprintln(w, "seen: ", s.GetTime("seen").Format(time.RFC3339Nano))
		fmt.Fprintln(w, "id:   ", s.GetInt64("id"))
		fmt.Fprintln(w, "ratio:", s.GetFloat64("ratio"))
		fmt.Fprintf(w, "key:   %x\n", s.GetBytes("key"))
		fmt.Fprintln(w, "name as int:", s.GetInt("name"), "missing:", s.GetInt("nothing"))
		var n int
		found, err := s.Get("name", &n)
		fmt.Fprintln(w, "Get(name, &int):", found, err != nil)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	if _, err := client.Post(srv.URL+"/save", "", nil); err != nil {
		log.Fatal(err)
	}
	res, err := client.Get(srv.URL + "/show")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Print(string(body))
	// Output:
	// seen:  2026-01-02T03:04:05.0000006+01:00
	// id:    9007199254740993
	// ratio: 0.25
	// key:   deadbeef
	// name as int: 0 missing: 0
	// Get(name, &int): true true
}

// A flash message across a redirect: the form's POST adds it and answers
// 303 See Other, the page it leads to shows it once, and the next visit
// shows nothing.
func ExampleSession_AddFlash() {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(), // sqlitestore or redisstore in a real server
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
	})
	if err != nil {
		log.Fatal(err)
	}
	page := template.Must(template.New("").Parse(
		`{{range .}}<p class="flash">{{.}}</p>{{else}}<p>no news</p>{{end}}`))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /profile", func(w http.ResponseWriter, r *http.Request) {
		// … save the profile …
		if err := tether.FromContext(r.Context()).AddFlash("Profile saved for " + r.FormValue("name")); err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		msgs, err := tether.FromContext(r.Context()).Flashes() // before writing the page
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		_ = page.Execute(w, msgs)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar} // follows the 303 with a GET, as a browser does
	show := func(res *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Println(res.Request.Method, res.Request.URL.Path, "→", string(body))
	}
	show(client.PostForm(srv.URL+"/profile", url.Values{"name": {"<alice>"}}))
	show(client.Get(srv.URL + "/profile"))
	// Output:
	// GET /profile → <p class="flash">Profile saved for &lt;alice&gt;</p>
	// GET /profile → <p>no news</p>
}

// Pop reads a value once: here the page to return to after signing in.
func ExampleSession_Pop() {
	m, err := tether.New(tether.Config{
		Store:   memstore.New(),
		Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)},
	})
	if err != nil {
		log.Fatal(err)
	}
	type returnTo struct {
		Path string `json:"path"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if s.UserID() == "" {
			if err := s.Set("return", returnTo{Path: r.URL.Path}); err != nil {
				tether.DefaultErrorHandler(w, r, err)
				return
			}
			fmt.Fprint(w, "please sign in")
			return
		}
		fmt.Fprint(w, "your orders")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		// … check the password …
		var back returnTo
		found, err := s.Pop("return", &back)
		if err == nil {
			err = s.Login("user-1001", "")
		}
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		if !found {
			back.Path = "/"
		}
		fmt.Fprint(w, "signed in, back to ", back.Path)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for _, req := range []struct{ method, path string }{
		{"GET", "/orders"}, {"POST", "/login"}, {"POST", "/login"}, {"GET", "/orders"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		res, err := client.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(req.method, req.path, "→", string(body))
	}
	// Output:
	// GET /orders → please sign in
	// POST /login → signed in, back to /orders
	// POST /login → signed in, back to /
	// GET /orders → your orders
}

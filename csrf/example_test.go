package csrf_test

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/csrf"
	"github.com/tetherhq/tether/memstore"
)

// A form page issues the session's token with csrf.Token; the form posts it
// back in the csrf_token field (an API client sends the X-CSRF-Token header
// instead). A post without it, or from another origin, is refused with 403
// before the handler runs.
func ExampleProtector_Handler() {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := csrf.New(csrf.Options{Manager: m})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		tok, err := csrf.Token(r)
		if err != nil {
			tether.DefaultErrorHandler(w, r, err)
			return
		}
		// In a template: <input type="hidden" name="csrf_token" value="{{.}}">
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("POST /transfer", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "transferred")
	})
	h := m.Handler(p.Handler(mux)) // csrf runs inside the session middleware

	// The browser loads the form: a session cookie and a token.
	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/form", nil))
	token := page.Body.String()
	cookies := page.Result().Cookies()

	post := func(body string, origin string) string {
		req := httptest.NewRequest("POST", "/transfer", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return fmt.Sprint(rec.Code, " ", strings.TrimSpace(rec.Body.String()))
	}
	fmt.Println(post("amount=10&csrf_token="+token, ""))
	fmt.Println(post("amount=10", ""))
	fmt.Println(post("amount=10&csrf_token="+token, "https://evil.example"))
	// Output:
	// 200 transferred
	// 403 {"error":"Invalid CSRF token"}
	// 403 {"error":"Cross-origin request refused"}
}

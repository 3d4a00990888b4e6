package tether_test

import (
	"fmt"
	"net/http"

	"github.com/tetherhq/tether"
)

// A value under LoginScopedKeyPrefix lasts until the next authentication
// change: here a step-up nonce is dropped by Reauthenticate, while the
// ordinary "theme" value stays. A login of another user would drop both.
func ExampleLoginScopedKeyPrefix() {
	m := exampleManager(nil)
	const nonceKey = tether.LoginScopedKeyPrefix + "stepUpNonce"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		if err := s.Login("user-42", ""); err != nil {
			m.Error(w, r, err)
			return
		}
		// Set after Login: a login starts a new user's values afresh.
		_ = s.Set("theme", "dark")
		_ = s.Set(nonceKey, "n-1")
	})
	mux.HandleFunc("POST /reauth", func(w http.ResponseWriter, r *http.Request) {
		if err := tether.FromContext(r.Context()).Reauthenticate(); err != nil {
			m.Error(w, r, err)
		}
	})
	mux.HandleFunc("GET /show", func(w http.ResponseWriter, r *http.Request) {
		s := tether.FromContext(r.Context())
		fmt.Fprintf(w, "theme=%q nonce=%q", s.GetString("theme"), s.GetString(nonceKey))
	})
	b := newBrowser(m.Handler(mux))
	b.do("POST", "/login")
	fmt.Println(b.body("GET", "/show"))
	b.do("POST", "/reauth")
	fmt.Println(b.body("GET", "/show"))
	// Output:
	// theme="dark" nonce="n-1"
	// theme="dark" nonce=""
}

package dbsc

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// What enforcement adds to a request of a session, all on memstore with a
// handler that reads the session (so it is loaded in every case):
//
//	plain    the Manager alone, no Enforce
//	unbound  Enforce, a session that never registered (it looks the binding up)
//	bound    Enforce, a bound session with its bound cookie (plus one HMAC)
//
// Compare the three side by side (go test -bench Enforce -count 6 |
// benchstat), not absolute times.
func BenchmarkEnforce(b *testing.B) {
	a := newApp(b)
	bound, _ := a.bind(b)
	unbound := a.send("POST", "/login", nil, nil).Result().Cookies()
	plain := a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(a.m.FromContext(r.Context()).UserID()))
	}))
	for _, c := range []struct {
		name    string
		h       http.Handler
		cookies []*http.Cookie
	}{{"plain", plain, unbound}, {"unbound", a.h, unbound}, {"bound", a.h, bound}} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "https://example.test/private", nil)
			for _, ck := range c.cookies {
				r.AddCookie(ck)
			}
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || w.Body.String() != "u1" {
					b.Fatalf("got %d %q", w.Code, w.Body)
				}
			}
		})
	}
}

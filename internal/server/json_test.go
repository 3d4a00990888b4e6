package server

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzDecodeForm(f *testing.F) {
	f.Add("application/json", `{"username":"alice","password":"x"}`)
	f.Add("application/x-www-form-urlencoded", "username=alice&password=x")
	f.Add("application/json", `{"username":null}`)
	f.Add("text/plain", "x")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		var u, p string
		err := decodeForm(httptest.NewRecorder(), req, map[string]*string{"username": &u, "password": &p})
		var he *httpError
		if err != nil && (!errors.As(err, &he) || he.status < 400 || he.status > 499) {
			t.Fatalf("decodeForm(%q, %q): got %v, want nil or a 4xx httpError", ctype, body, err)
		}
	})
}

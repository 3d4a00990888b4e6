package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

// decodeLogin runs decodeForm on a login body of content type ctype.
func decodeLogin(ctype, body string) (username, password string, err error) {
	req := httptest.NewRequest("POST", "/login", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	err = decodeForm(httptest.NewRecorder(), req, map[string]*string{"username": &username, "password": &password})
	return username, password, err
}

// issue 11 row 10: a repeated key in a JSON body is refused with 400, as a
// repeated field of a form is, instead of the last one silently winning; so
// is a key naming a field read in another case, which a struct decoder would
// read as that field.
func TestDecodeFormRepeatedKeys(t *testing.T) {
	const form, js = "application/x-www-form-urlencoded", "application/json"
	for _, tc := range []struct {
		name, ctype, body string
		status            int    // 0: accepted
		user              string // when accepted
		msg               string // part of the 400's message
	}{
		{"json", js, `{"username":"alice","password":"x"}`, 0, "alice", ""},
		{"json, unknown and nested keys", js, `{"username":"alice","a":{"b":1,"b":2},"password":"x","z":[1]}`, 0, "alice", ""},
		{"json, null field", js, `{"username":null,"password":"x"}`, 0, "", ""},
		{"form", form, "username=alice&password=x", 0, "alice", ""},
		{"json, repeated field", js, `{"username":"alice","password":"x","username":"bob"}`, 400, "", "field username appears more than once"},
		{"json, repeated field, same value", js, `{"username":"alice","username":"alice"}`, 400, "", "field username appears more than once"},
		{"json, repeated field, escaped", js, `{"username":"alice","\u0075sername":"bob"}`, 400, "", "field username appears more than once"},
		{"json, repeated unknown key", js, `{"username":"alice","x":1,"x":2}`, 400, "", "a key appears more than once"},
		{"json, field in another case", js, `{"username":"alice","USERNAME":"bob"}`, 400, "", "only in case"},
		{"json, field in another case first", js, `{"Username":"bob","username":"alice"}`, 400, "", "only in case"},
		{"json, field in another case alone", js, `{"Username":"bob","password":"x"}`, 400, "", "only in case"},
		{"json, long s folds to s", js, `{"username":"a","pa` + "\u017f\u017f" + `word":"x"}`, 400, "", "only in case"},
		{"json, long s in a repeated field", js, `{"username":"alice","u` + "\u017f" + `ername":"bob"}`, 400, "", "only in case"},
		{"json, trailing object", js, `{"username":"alice"}{"username":"bob"}`, 400, "", "expected one object"},
		{"json, not an object", js, `["username","alice"]`, 400, "", "expected one object"},
		{"json, null", js, `null`, 400, "", "expected one object"},
		{"json, number field", js, `{"username":1}`, 400, "", "must be a string"},
		{"form, repeated field", form, "username=alice&username=bob", 400, "", "is repeated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _, err := decodeLogin(tc.ctype, tc.body)
			if tc.status == 0 {
				if err != nil || u != tc.user {
					t.Fatalf("decodeForm(%s): got %q, %v, want %q, nil", tc.body, u, err, tc.user)
				}
				return
			}
			var he *httpError
			if !errors.As(err, &he) || he.status != tc.status || !strings.Contains(he.msg, tc.msg) {
				t.Fatalf("decodeForm(%s): got %v, want %d with %q", tc.body, err, tc.status, tc.msg)
			}
		})
	}
}

// FuzzDecodeForm checks that decodeForm answers every input with its values
// or a 4xx, and that a JSON body it accepts reads the same through a struct
// decoder, which matches keys case-insensitively and keeps the last match
// (issue 11 row 10): the server and any Go framework, proxy or WAF in front
// of it cannot see two different usernames in one body.
func FuzzDecodeForm(f *testing.F) {
	f.Add("application/json", `{"username":"alice","password":"x"}`)
	f.Add("application/x-www-form-urlencoded", "username=alice&password=x")
	f.Add("application/json", `{"username":null}`)
	f.Add("text/plain", "x")
	f.Add("application/json", `{"username":"alice","username":"bob"}`)
	f.Add("application/json", `{"username":"alice","USERNAME":"bob"}`)
	f.Add("application/json; charset=utf-8", `{"Password":"p","a":{"a":1,"a":2}}`)
	f.Add("application/json", `{"username":"a"} {"username":"b"}`)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		u, p, err := decodeLogin(ctype, body)
		var he *httpError
		if err != nil {
			if !errors.As(err, &he) || he.status < 400 || he.status > 499 {
				t.Fatalf("decodeForm(%q, %q): got %v, want nil or a 4xx httpError", ctype, body, err)
			}
			return
		}
		if mt, _, _ := mime.ParseMediaType(ctype); mt != "application/json" {
			return
		}
		var v struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.Username != u || v.Password != p {
			t.Fatalf("decodeForm(%q) accepted %q, %q; a struct decoder reads %q, %q, %v: want the same values", body, u, p, v.Username, v.Password, err)
		}
	})
}

// issue 11 row 10, through the route: a login body naming the username twice
// gets 400 and no session, even when the first name's password is right.
func TestLoginRepeatedKeyIs400(t *testing.T) {
	send := sender(testServer(t, tether.Config{}, Options{}).Handler())
	for _, body := range []string{
		`{"username":"mallory","username":"alice","password":"correct-horse"}`,
		`{"username":"alice","USERNAME":"mallory","password":"correct-horse"}`,
	} {
		rec := send("POST", "/login", body, "")
		if rec.Code != 400 || len(rec.Result().Cookies()) != 0 || !strings.Contains(rec.Body.String(), "more than once") && !strings.Contains(rec.Body.String(), "only in case") {
			t.Fatalf("login %s: got %d %s with %d cookies, want 400 naming the repeated field and no cookie", body, rec.Code, rec.Body, len(rec.Result().Cookies()))
		}
	}
}

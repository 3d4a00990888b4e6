package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// gatedUsers is a real user directory whose next Authenticate, once armed,
// stops after the password check has passed: it reports on verified and
// waits for release before returning. The login holding it has verified
// the credentials but not yet created its session.
type gatedUsers struct {
	users.Directory
	armed    atomic.Bool
	verified chan struct{}
	release  chan struct{}
}

func newGatedUsers(d users.Directory) *gatedUsers {
	return &gatedUsers{Directory: d, verified: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedUsers) Authenticate(ctx context.Context, name, password string) (users.User, error) {
	u, err := g.Directory.Authenticate(ctx, name, password)
	if err == nil && g.armed.CompareAndSwap(true, false) {
		close(g.verified)
		<-g.release
	}
	return u, err
}

// client sends requests with one session cookie and its CSRF token, and
// follows token rotations.
type client struct {
	t      *testing.T
	h      http.Handler
	cookie string
	csrf   string
}

func (c *client) do(method, path, body string) *httptest.ResponseRecorder {
	c.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: "sid", Value: c.cookie})
	}
	if c.csrf != "" {
		r.Header.Set("X-CSRF-Token", c.csrf)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "sid" && ck.MaxAge >= 0 {
			c.cookie = ck.Value
		}
	}
	return rec
}

// login signs in and fetches a CSRF token.
func (c *client) login(user, password string) {
	c.t.Helper()
	if rec := c.do("POST", "/login", `{"username":"`+user+`","password":"`+password+`"}`); rec.Code != 200 {
		c.t.Fatalf("login of %s: got %d %s, want 200", user, rec.Code, rec.Body)
	}
	var tok struct{ CSRFToken string }
	if err := json.Unmarshal(c.do("GET", "/csrf-token", "").Body.Bytes(), &tok); err != nil || tok.CSRFToken == "" {
		c.t.Fatalf("csrf token: %v", err)
	}
	c.csrf = tok.CSRFToken
}

// issue 11 row 3: a login that has verified the old credentials, and whose
// session is created only after a password change, a disable or a revoke
// of all the user's sessions has ended every session of the account, must
// not survive it. Before the credential generation, its cookie answered
// 200 on the next request.
func TestInFlightLoginDiesWithCredentialChange(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// change runs while the login is held between its password check
		// and its session; other is another signed-in session of alice.
		change func(t *testing.T, s *Server, dir users.Directory, other *client)
		// otherLives: the changing session itself goes on.
		otherLives bool
	}{
		{"password change (POST /password)", func(t *testing.T, _ *Server, _ users.Directory, other *client) {
			rec := other.do("POST", "/password", `{"currentPassword":"correct-horse","newPassword":"new-horse-staple"}`)
			if rec.Code != 200 {
				t.Fatalf("POST /password: got %d %s, want 200", rec.Code, rec.Body)
			}
		}, true},
		{"disable, then end the sessions (the admin CLI's order)", func(t *testing.T, s *Server, dir users.Directory, _ *client) {
			u, _ := dir.Get(ctx, "alice")
			if err := dir.SetDisabled(ctx, "alice", true); err != nil {
				t.Fatal(err)
			}
			if err := dir.SetDisabled(ctx, "alice", false); err != nil { // and back: only the generation tells
				t.Fatal(err)
			}
			if _, err := s.m.EndUserSessions(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"admin ends all of the user's sessions", func(t *testing.T, s *Server, dir users.Directory, _ *client) {
			root := &client{t: t, h: s.Handler()}
			root.login("root", "root-password")
			if rec := root.do("DELETE", "/admin/users/alice/sessions", ""); rec.Code != 200 {
				t.Fatalf("DELETE /admin/users/alice/sessions: got %d %s, want 200", rec.Code, rec.Body)
			}
		}, false},
		{"revoke everything (DELETE /admin/sessions)", func(t *testing.T, s *Server, dir users.Directory, _ *client) {
			root := &client{t: t, h: s.Handler()}
			root.login("root", "root-password")
			if rec := root.do("DELETE", "/admin/sessions", ""); rec.Code != 200 {
				t.Fatalf("DELETE /admin/sessions: got %d %s, want 200", rec.Code, rec.Body)
			}
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := aliceDir(t)
			if _, err := base.Add(ctx, "root", "root-password", users.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			dir := newGatedUsers(base)
			var mu sync.Mutex
			var reasons []string
			s := testServer(t, tether.Config{OnEvent: func(e tether.Event) {
				for _, a := range e.Attrs {
					if e.Type == tether.EventSessionRevoked && a.Key == "reason" {
						mu.Lock()
						reasons = append(reasons, a.Value.String())
						mu.Unlock()
					}
				}
			}}, Options{Users: dir})
			other := &client{t: t, h: s.Handler()}
			other.login("alice", "correct-horse")

			racer := &client{t: t, h: s.Handler()}
			dir.armed.Store(true)
			done := make(chan *httptest.ResponseRecorder)
			go func() {
				done <- racer.do("POST", "/login", `{"username":"alice","password":"correct-horse"}`)
			}()
			<-dir.verified // the old password is verified; no session yet
			tc.change(t, s, dir, other)
			close(dir.release)
			if rec := <-done; rec.Code != 200 {
				t.Fatalf("the racing login: got %d %s, want 200 (it verified the password before the change)", rec.Code, rec.Body)
			}
			if rec := racer.do("GET", "/profile", ""); rec.Code != 401 {
				t.Fatalf("the racing login's next request: got %d %s, want 401", rec.Code, rec.Body)
			}
			mu.Lock()
			got := strings.Join(reasons, ",")
			mu.Unlock()
			if !strings.Contains(got, "credentials_changed") {
				t.Errorf("session_revoked reasons %q: want credentials_changed", got)
			}
			for i := range 2 { // past the first, flagged, re-check
				want := map[bool]int{true: 200, false: 401}[tc.otherLives]
				if rec := other.do("GET", "/profile", ""); rec.Code != want {
					t.Fatalf("the other session, request %d after the change: got %d, want %d", i, rec.Code, want)
				}
			}
		})
	}
}

// The re-check on the first request after a login fails closed: while the
// directory cannot be read it answers 503 and keeps the flag; once it can,
// the request goes through, and from then on the once-a-minute re-check
// fails open as before.
func TestFirstRequestAfterLoginFailsClosed(t *testing.T) {
	dir := &flakyUsers{Directory: aliceDir(t)}
	s := testServer(t, tether.Config{}, Options{Users: dir})
	c := &client{t: t, h: s.Handler()}
	c.login("alice", "correct-horse") // GET /csrf-token does not re-check the account: still flagged
	steps := []struct {
		name string
		down bool
		want int
	}{
		{"first request, directory down", true, 503},
		{"again, still down: the flag was kept", true, 503},
		{"directory back", false, 200},
		{"down again: the periodic check lets it through", true, 200},
	}
	for _, st := range steps {
		dir.down.Store(st.down)
		if rec := c.do("GET", "/profile", ""); rec.Code != st.want {
			t.Fatalf("%s: got %d %s, want %d", st.name, rec.Code, rec.Body, st.want)
		}
	}
}

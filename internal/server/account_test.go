package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
)

// A role change rotates the token (role_changed) and a disabled account's
// session ends, at the pace of the "last seen" refresh (here: every request).
func TestAccountRecheck(t *testing.T) {
	ctx := context.Background()
	dir := aliceDir(t)
	var events []string
	s := testServer(t, tether.Config{OnEvent: func(e tether.Event) { events = append(events, e.Type) }}, Options{Users: dir})
	s.seenEvery = 0
	send := sender(s.Handler())
	login := send("POST", "/login", `{"username":"alice","password":"correct-horse"}`, "")
	c := login.Result().Cookies()[0].Value
	if rec := send("GET", "/profile", "", c); rec.Code != 200 {
		t.Fatalf("profile: got %d", rec.Code)
	}
	_ = dir.SetRole(ctx, "alice", users.RoleAdmin)
	rec := send("GET", "/profile", "", c)
	var rotated string
	for _, ck := range rec.Result().Cookies() {
		rotated = ck.Value
	}
	if rec.Code != 200 || rotated == "" || rotated == c {
		t.Fatalf("after a role change: got %d with cookie %q, want 200 and a new token", rec.Code, rotated)
	}
	if send("GET", "/profile", "", c).Code != 401 {
		t.Fatal("the token from before the role change still works")
	}
	if !strings.Contains(strings.Join(events, ","), tether.EventRoleChanged) {
		t.Fatalf("events %v: want role_changed", events)
	}
	_ = dir.SetDisabled(ctx, "alice", true)
	if rec := send("GET", "/profile", "", rotated); rec.Code != 401 {
		t.Fatalf("after disabling: got %d, want 401", rec.Code)
	}
}

// flakyUsers is a user directory whose Get fails while down is set (for the
// user named only, when only is set).
type flakyUsers struct {
	users.Directory
	down atomic.Bool
	only string
	gets atomic.Int64
}

func (f *flakyUsers) Get(ctx context.Context, name string) (users.User, error) {
	f.gets.Add(1)
	if f.down.Load() && (f.only == "" || f.only == name) {
		return users.User{}, errors.New("connection refused")
	}
	return f.Directory.Get(ctx, name)
}

// Guards against dropping an admin's account-change flag before the change
// is applied: with the directory down, the flagged session gets 503 (never
// its old role) and keeps the flag, so the change lands once it is back.
func TestAccountChangeFailsClosed(t *testing.T) {
	ctx := context.Background()
	base := aliceDir(t)
	dir := &flakyUsers{Directory: base}
	s := testServer(t, tether.Config{}, Options{Users: dir})
	do := sender(s.Handler())
	send := func(path, body, cookie string) *httptest.ResponseRecorder {
		if body != "" {
			return do("POST", path, body, cookie)
		}
		return do("GET", path, body, cookie)
	}
	c := send("/login", `{"username":"alice","password":"correct-horse"}`, "").Result().Cookies()[0].Value
	u, _ := base.Get(ctx, "alice")
	// The first request after a login re-checks the account (credGenKey).
	if rec := send("/profile", "", c); rec.Code != 200 {
		t.Fatalf("first request after the login: got %d, want 200", rec.Code)
	}

	// Unflagged: the periodic re-check fails open while the directory is
	// down, at the once-a-minute pace, not on every request.
	dir.down.Store(true)
	s.seenEvery = 0
	if rec := send("/profile", "", c); rec.Code != 200 {
		t.Fatalf("unflagged request with the directory down: got %d, want 200", rec.Code)
	}
	s.seenEvery = time.Minute
	gets := dir.gets.Load()
	for range 3 {
		send("/profile", "", c)
	}
	if n := dir.gets.Load() - gets; n != 0 {
		t.Fatalf("directory calls in the minute after a failed re-check: got %d, want 0", n)
	}
	_ = base.SetRole(ctx, "alice", users.RoleAdmin)
	if n, err := s.m.SetUserSessions(ctx, u.ID, AccountChangedKey, 1); err != nil || n != 1 {
		t.Fatalf("flag: got %d %v", n, err)
	}
	for i := range 2 {
		if rec := send("/profile", "", c); rec.Code != 503 || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("flagged request %d with the directory down: got %d %s, want 503", i, rec.Code, rec.Body)
		}
	}
	dir.down.Store(false)
	rec := send("/profile", "", c)
	cookies := rec.Result().Cookies()
	if rec.Code != 200 || len(cookies) == 0 || cookies[0].Value == c {
		t.Fatalf("flagged request with the directory back: got %d and %d cookies, want 200 and a rotated token", rec.Code, len(cookies))
	}
	if rec := send("/profile", "", c); rec.Code != 401 {
		t.Fatalf("the token from before the role change: got %d, want 401", rec.Code)
	}
	rec = send("/profile", "", cookies[0].Value)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "sid" && ck.Value != cookies[0].Value {
			t.Fatal("the rotated token was rotated again: the flag outlived the change")
		}
	}
	if rec.Code != 200 {
		t.Fatalf("the rotated token: got %d, want 200", rec.Code)
	}
}

// issue 11 row 7: a "last seen" in the future (clock skew between instances,
// or a record written by someone with access to the store) counts as stale:
// the account is re-checked at once, so a disabled account's session ends on
// its next request. A recent past one still waits for the pace.
func TestFutureSeenIsStale(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // metaSeen relative to now
		want   int
	}{
		{"ten seconds ago: fresh, no re-check yet", -10 * time.Second, 200},
		{"an hour ahead: stale", time.Hour, 401},
		{"a year ahead: stale", 365 * 24 * time.Hour, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := aliceDir(t)
			s := testServer(t, tether.Config{}, Options{Users: dir})
			send := sender(s.Handler())
			c := send("POST", "/login", `{"username":"alice","password":"correct-horse"}`, "").Result().Cookies()[0].Value
			u, _ := dir.Get(ctx, "alice")
			// The first request after a login re-checks the account
			// (credGenKey); the pace applies from then on.
			if got := send("GET", "/profile", "", c).Code; got != 200 {
				t.Fatalf("first request after the login: got %d, want 200", got)
			}
			if n, err := s.m.SetUserSessions(ctx, u.ID, metaSeenKey, time.Now().Add(tc.offset).Unix()); err != nil || n != 1 {
				t.Fatalf("SetUserSessions: got %d, %v, want 1, nil", n, err)
			}
			if err := dir.SetDisabled(ctx, "alice", true); err != nil {
				t.Fatal(err)
			}
			if got := send("GET", "/profile", "", c).Code; got != tc.want {
				t.Fatalf("next request after disabling the account: got %d, want %d", got, tc.want)
			}
		})
	}
}

// issue 11 row 7: admin routes re-read the role from the user directory on
// every request, not at the once-a-minute pace of the account re-check: an
// admin demoted or disabled a second ago does not pass, one promoted a
// second ago passes with a rotated token, and an unreadable directory fails
// closed.
func TestAdminRoleReadEveryRequest(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		user      string
		change    func(t *testing.T, base *users.SQLite, dir *flakyUsers)
		before    int // the admin request before the change
		want      int // the next admin request after it
		wantToken bool
	}{
		{"unchanged admin", "root", func(*testing.T, *users.SQLite, *flakyUsers) {}, 200, 200, false},
		{"demoted admin", "root", func(t *testing.T, base *users.SQLite, _ *flakyUsers) {
			if err := base.SetRole(ctx, "root", users.RoleUser); err != nil {
				t.Fatal(err)
			}
		}, 200, 403, true},
		{"disabled admin", "root", func(t *testing.T, base *users.SQLite, _ *flakyUsers) {
			if err := base.SetDisabled(ctx, "root", true); err != nil {
				t.Fatal(err)
			}
		}, 200, 401, false},
		// Only the admin's own account is unreadable: the route's target
		// (alice) still is, so the 503 comes from the role check.
		{"directory down", "root", func(_ *testing.T, _ *users.SQLite, dir *flakyUsers) {
			dir.only = "root"
			dir.down.Store(true)
		}, 200, 503, false},
		{"promoted user", "alice", func(t *testing.T, base *users.SQLite, _ *flakyUsers) {
			if err := base.SetRole(ctx, "alice", users.RoleAdmin); err != nil {
				t.Fatal(err)
			}
		}, 403, 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := aliceDir(t)
			if _, err := base.Add(ctx, "root", "root-password", users.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			dir := &flakyUsers{Directory: base}
			s := testServer(t, tether.Config{}, Options{Users: dir})
			send := sender(s.Handler())
			pw := map[string]string{"alice": "correct-horse", "root": "root-password"}[tc.user]
			login := send("POST", "/login", `{"username":"`+tc.user+`","password":"`+pw+`"}`, "")
			if login.Code != 200 {
				t.Fatalf("login: got %d, want 200", login.Code)
			}
			c := login.Result().Cookies()[0].Value
			if got := send("GET", "/admin/users/alice/sessions", "", c).Code; got != tc.before {
				t.Fatalf("admin request before the change: got %d, want %d", got, tc.before)
			}
			tc.change(t, base, dir)
			rec := send("GET", "/admin/users/alice/sessions", "", c)
			if rec.Code != tc.want {
				t.Fatalf("admin request right after the change: got %d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			rotated := false
			for _, ck := range rec.Result().Cookies() {
				rotated = rotated || (ck.Name == "sid" && ck.Value != "" && ck.Value != c)
			}
			if rotated != tc.wantToken {
				t.Fatalf("token rotated: got %v, want %v", rotated, tc.wantToken)
			}
		})
	}
}

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

// flakyUsers is a user directory whose Get fails while down is set.
type flakyUsers struct {
	users.Directory
	down atomic.Bool
	gets atomic.Int64
}

func (f *flakyUsers) Get(ctx context.Context, name string) (users.User, error) {
	f.gets.Add(1)
	if f.down.Load() {
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

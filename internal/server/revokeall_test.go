package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/memstore"
)

// DELETE /admin/sessions (ASVS 7.4.5): admins only, with a recent
// authentication and the CSRF token; it ends every session of every user,
// anonymous ones and the caller's included, raises every generation, and
// records session_revoked with reason revoke_all and the count.
func TestAdminEndAllSessions(t *testing.T) {
	ctx := context.Background()
	dir := aliceDir(t)
	if _, err := dir.Add(ctx, "root", "root-password", users.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	var mu sync.Mutex
	var revoked []tether.Event
	s := testServer(t, tether.Config{Store: store, OnEvent: func(e tether.Event) {
		if e.Type == tether.EventSessionRevoked {
			mu.Lock()
			revoked = append(revoked, e)
			mu.Unlock()
		}
	}}, Options{Users: dir})
	h := s.Handler()

	alice := &client{t: t, h: h}
	alice.login("alice", "correct-horse")
	anon := &client{t: t, h: h}
	anon.do("GET", "/views", "")
	root := &client{t: t, h: h}
	root.login("root", "root-password")

	// Refusals first: nothing ends.
	if rec := alice.do("DELETE", "/admin/sessions", ""); rec.Code != 403 {
		t.Fatalf("a user: got %d %s, want 403", rec.Code, rec.Body)
	}
	noCSRF := &client{t: t, h: h, cookie: root.cookie}
	if rec := noCSRF.do("DELETE", "/admin/sessions", ""); rec.Code != 403 || !strings.Contains(rec.Body.String(), "CSRF") {
		t.Fatalf("no CSRF token: got %d %s, want 403 naming CSRF", rec.Code, rec.Body)
	}
	if store.Len() != 3 {
		t.Fatalf("sessions after the refusals: got %d, want 3", store.Len())
	}
	before, _ := dir.List(ctx)

	rec := root.do("DELETE", "/admin/sessions", "")
	var body struct {
		OK            bool
		EndedSessions int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 200 || err != nil || !body.OK || body.EndedSessions != 3 {
		t.Fatalf("DELETE /admin/sessions: got %d %s, want 200 with endedSessions 3", rec.Code, rec.Body)
	}
	expired := false
	for _, ck := range rec.Result().Cookies() {
		expired = expired || (ck.Name == "sid" && ck.MaxAge < 0)
	}
	if !expired {
		t.Error("the caller's cookie: want it expired in the answer")
	}
	if store.Len() != 0 {
		t.Fatalf("sessions left: got %d, want 0", store.Len())
	}
	for name, c := range map[string]*client{"alice": alice, "root": root} {
		if rec := c.do("GET", "/profile", ""); rec.Code != 401 {
			t.Errorf("%s after the purge: got %d, want 401", name, rec.Code)
		}
	}
	after, _ := dir.List(ctx)
	for i := range after {
		if after[i].Generation != before[i].Generation+1 {
			t.Errorf("%s's generation: got %d, want %d", after[i].Username, after[i].Generation, before[i].Generation+1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, e := range revoked {
		attrs := map[string]string{}
		for _, a := range e.Attrs {
			attrs[a.Key] = a.Value.String()
		}
		if attrs["reason"] == tether.ReasonRevokeAll {
			found = true
			if attrs["count"] != "3" || e.UserID == "" {
				t.Errorf("revoke_all event: got count %s by %q, want 3 by the admin", attrs["count"], e.UserID)
			}
		}
	}
	if !found {
		t.Error("no session_revoked event with reason revoke_all")
	}
}

// The route needs a recent authentication, as the other destructive admin
// routes do.
func TestAdminEndAllSessionsNeedsRecentAuth(t *testing.T) {
	ctx := context.Background()
	dir := aliceDir(t)
	if _, err := dir.Add(ctx, "root", "root-password", users.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	s := testServer(t, tether.Config{Store: store}, Options{Users: dir, ReauthWindow: time.Nanosecond})
	root := &client{t: t, h: s.Handler()}
	root.login("root", "root-password")
	if rec := root.do("DELETE", "/admin/sessions", ""); rec.Code != 401 || !strings.Contains(rec.Body.String(), "Re-authentication required") {
		t.Fatalf("stale authentication: got %d %s, want 401 Re-authentication required", rec.Code, rec.Body)
	}
	if store.Len() != 1 {
		t.Fatalf("sessions: got %d, want the admin's one left", store.Len())
	}
}

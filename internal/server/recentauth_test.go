package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// ASVS 5.0 7.5.2: a user may end their other sessions (one device, or all
// others) only with a recent authentication. Outside the window the request
// is refused with 401 and no session ends; inside it, the session ends.
func TestEndingOwnSessionsNeedsRecentAuth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   int // status of the ending request
		left   int // sessions in the store afterwards
	}{
		{"outside the window", time.Nanosecond, 401, 2},
		{"inside the window", time.Hour, 200, 1},
	} {
		for _, route := range []string{"POST /sessions/revoke-others", "DELETE /sessions/{id}"} {
			t.Run(tc.name+"/"+route, func(t *testing.T) {
				store := memstore.New()
				h := testServer(t, tether.Config{Store: store}, Options{ReauthWindow: tc.window}).Handler()
				a, b := &client{t: t, h: h}, &client{t: t, h: h}
				a.login("alice", "correct-horse")
				b.login("alice", "correct-horse")
				var list struct {
					Sessions []struct {
						ID      string
						Current bool
					}
				}
				if err := json.Unmarshal(a.do("GET", "/sessions", "").Body.Bytes(), &list); err != nil || len(list.Sessions) != 2 {
					t.Fatalf("GET /sessions: got %+v (%v), want 2 sessions", list, err)
				}
				other := list.Sessions[0].ID
				if list.Sessions[0].Current {
					other = list.Sessions[1].ID
				}
				var code int
				if route == "POST /sessions/revoke-others" {
					code = a.do("POST", "/sessions/revoke-others", "").Code
				} else {
					code = a.do("DELETE", "/sessions/"+other, "").Code
				}
				if code != tc.want {
					t.Fatalf("%s: got %d, want %d", route, code, tc.want)
				}
				if got := store.Len(); got != tc.left {
					t.Fatalf("sessions left: got %d, want %d", got, tc.left)
				}
				if got, want := b.do("GET", "/profile", "").Code, map[int]int{401: 200, 200: 401}[tc.want]; got != want {
					t.Fatalf("the other session's GET /profile: got %d, want %d", got, want)
				}
			})
		}
	}
}

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTimeoutsEndToEnd(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		in := start(t, t.TempDir(), env("SESSION_IDLE_TIMEOUT", "1s", "SESSION_ABSOLUTE_TIMEOUT", "1h"))
		c := in.client()
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		expect(t, "profile at once", c.get("/profile"), 200, "")
		// The client keeps sending the cookie after it expired in the
		// browser: the server's stored deadline must reject it anyway.
		sid := c.sid()
		time.Sleep(1500 * time.Millisecond)
		late := in.client()
		late.setSID(sid)
		expect(t, "profile after 1.5s idle", late.get("/profile"), 401, `{"error":"Not authenticated"}`)
		in.stop()
		if !strings.Contains(in.events.String(), `"event":"idle_timeout"`) {
			t.Fatalf("no idle_timeout event in\n%s", in.events)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		in := start(t, t.TempDir(), env("SESSION_IDLE_TIMEOUT", "2s", "SESSION_ABSOLUTE_TIMEOUT", "3s"))
		c := in.client()
		expect(t, "login", c.login("alice", "correct-horse"), 200, "")
		sid := c.sid()
		// The cookie's Max-Age shrinks towards the absolute deadline, so the
		// jar would drop it first; send it by hand to test the server's clock.
		for i := 0; i < 2; i++ {
			time.Sleep(time.Second)
			active := in.client()
			active.setSID(sid)
			expect(t, fmt.Sprintf("active profile %d", i), active.get("/profile"), 200, "")
		}
		time.Sleep(1200 * time.Millisecond)
		late := in.client()
		late.setSID(sid)
		expect(t, "profile after 3.2s of activity", late.get("/profile"), 401, `{"error":"Not authenticated"}`)
		in.stop()
		if !strings.Contains(in.events.String(), `"event":"absolute_timeout"`) {
			t.Fatalf("no absolute_timeout event in\n%s", in.events)
		}
	})
}

package chat

import (
	"context"
	"testing"
)

// A member whose queue is full is disconnected (errTooSlow) instead of
// blocking the broadcast for everyone; the others still get the message.
func TestBroadcastDropsSlowMember(t *testing.T) {
	rm := &room{members: map[*member]struct{}{}}
	newMember := func(name string) (*member, context.Context) {
		ctx, kick := context.WithCancelCause(context.Background())
		t.Cleanup(func() { kick(nil) })
		mb := &member{name: name, out: make(chan Message, outboxSize), kick: kick}
		rm.members[mb] = struct{}{}
		return mb, ctx
	}
	slow, slowCtx := newMember("slow")
	fast, fastCtx := newMember("fast")
	for i := range outboxSize {
		rm.broadcast(Message{Kind: "message", From: "x", Text: string(rune('a' + i%26))})
		<-fast.out // fast reads as it goes
	}
	if err := context.Cause(slowCtx); err != nil {
		t.Fatalf("slow member with a full queue: got kicked (%v) already, want still connected", err)
	}
	rm.broadcast(Message{Kind: "message", From: "x", Text: "one too many"})
	if err := context.Cause(slowCtx); err != errTooSlow {
		t.Fatalf("slow member after one message too many: got cause %v, want %v", err, errTooSlow)
	}
	if err := context.Cause(fastCtx); err != nil {
		t.Fatalf("fast member: got kicked (%v), want connected", err)
	}
	if got := <-fast.out; got.Text != "one too many" {
		t.Fatalf("fast member: got %+v, want the last message", got)
	}
	if len(slow.out) != outboxSize {
		t.Fatalf("slow member's queue: got %d messages, want %d", len(slow.out), outboxSize)
	}
}

// endSession disconnects only the sockets of that session.
func TestEndSessionKicksOnlyThatSession(t *testing.T) {
	rm := &room{members: map[*member]struct{}{}}
	type socket struct {
		session string
		ctx     context.Context
	}
	var sockets []socket
	for _, id := range []string{"s1", "s1", "s2"} { // two tabs of s1, one of s2
		ctx, kick := context.WithCancelCause(context.Background())
		t.Cleanup(func() { kick(nil) })
		rm.members[&member{name: "alice", session: id, out: make(chan Message, outboxSize), kick: kick}] = struct{}{}
		sockets = append(sockets, socket{id, ctx})
	}
	rm.endSession("s1")
	for i, sk := range sockets {
		var want error
		if sk.session == "s1" {
			want = errSignedOut
		}
		if got := context.Cause(sk.ctx); got != want {
			t.Fatalf("socket %d of session %s: got cause %v, want %v", i, sk.session, got, want)
		}
	}
}

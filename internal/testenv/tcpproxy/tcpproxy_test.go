package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// The proxy forwards, holds bytes without closing while stalled (a read
// times out, no EOF), and delivers them on Resume.
func TestStallHoldsWithoutClosing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	p := Start(t, ln.Addr().String())
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string, within time.Duration) (string, error) {
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(within))
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one", time.Second); err != nil || got != "one\n" {
		t.Fatalf("forwarding: got %q, %v, want \"one\\n\", nil", got, err)
	}
	p.Stall()
	got, err := roundTrip("two", 200*time.Millisecond)
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("while stalled: got %q, %v, want a read timeout (no data, no EOF)", got, err)
	}
	p.Resume()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("after Resume: got %q, %v, want the held \"two\\n\"", got, err)
	}
}

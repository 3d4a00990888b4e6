package pgtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards a loopback port to the test server so that a test can
// take the server away, as a crash or a network partition would, and bring
// it back on the same address.
type Proxy struct {
	t      testing.TB
	addr   string // where clients connect
	target string // the server's host:port

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// StartProxy starts a proxy to the server of dbURL (a URL from URL or
// ServerURL) and returns it with dbURL rewritten to go through it. The
// proxy is cut when the test ends.
func StartProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: proxy: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: u.Host, addr: l.Addr().String()}
	l.Close()
	p.Resume()
	t.Cleanup(p.Cut)
	u.Host = p.addr
	return p, u.String()
}

// Resume listens again on the proxy's address and forwards new
// connections.
func (p *Proxy) Resume() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("pgtest: proxy: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// Cut closes the listener and every forwarded connection: clients see
// their connections drop and new ones refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// String returns the proxy's address.
func (p *Proxy) String() string { return p.addr }

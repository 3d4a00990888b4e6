// Package tcpproxy is a loopback TCP proxy for tests that need a connection
// to go half-open: Stall stops forwarding in both directions without
// closing either socket, as a dead peer or a silent network partition
// would, so the client sees neither data nor an error until its own
// timeouts fire.
package tcpproxy

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards every connection made to Addr to a target address. It is
// safe for concurrent use.
type Proxy struct {
	// Addr is the proxy's listening address (127.0.0.1, a free port).
	Addr string

	ln     net.Listener
	target string

	mu      sync.Mutex
	stalled bool
	resume  chan struct{} // closed by Resume
	conns   []net.Conn
}

// Start listens on a free loopback port and forwards to target until the
// test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpproxy: listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target, resume: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies src to dst, a read at a time, holding each read while the
// proxy is stalled (the bytes are kept, not forwarded, and nothing closes).
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF included: the other side closed
			return
		}
	}
}

func (p *Proxy) wait() {
	p.mu.Lock()
	stalled, ch := p.stalled, p.resume
	p.mu.Unlock()
	if stalled {
		<-ch
	}
}

// Stall stops forwarding: bytes read from either side are held, and no
// socket is closed (a half-open connection).
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stalled {
		p.stalled = true
		p.resume = make(chan struct{})
	}
}

// Resume forwards again, held bytes first.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resume)
	}
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	p.Resume()
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

package faults

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// proxy is a TCP proxy to PostgreSQL that can fail on command: drop every live connection, and
// refuse new ones (accepted, then reset at once) until told to accept again.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	refuse  bool
	conns   map[net.Conn]struct{}
	refused int
}

// newProxy listens on 127.0.0.1:0 and forwards to the host of dbURL; it returns the proxy and dbURL
// pointed at it. The proxy closes when the test ends.
func newProxy(t *testing.T, dbURL string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.drop()
	})
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		if refuse {
			p.refused++
		}
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	p.mu.Lock()
	if p.refuse { // outage began while dialling
		p.mu.Unlock()
		reset(c)
		reset(up)
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	wg.Add(2)
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// down starts an outage: every live connection is reset and new ones are refused.
func (p *proxy) down() {
	p.mu.Lock()
	p.refuse = true
	p.mu.Unlock()
	p.drop()
}

// up ends the outage: new connections are forwarded again.
func (p *proxy) up() {
	p.mu.Lock()
	p.refuse = false
	p.mu.Unlock()
}

// refusedCount is how many connections were refused during outages.
func (p *proxy) refusedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *proxy) drop() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		reset(c)
	}
}

// reset closes c with a TCP RST rather than a FIN, as a crashed or restarted server's host would.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

package main

import (
	"net"
	"sync"
	"time"
)

// freezeProxy forwards TCP connections from a loopback port to one etcd
// member (the idea of e2e/etcd_proxy_test.go). Freeze stops moving bytes in
// both directions while the connections stay open, as behind a hung network
// path; Thaw resumes. Each manager talks to each member through a proxy of
// its own, so the harness can cut one manager off alone.
type freezeProxy struct {
	ln       net.Listener
	upstream string
	wg       sync.WaitGroup

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed while thawed; replaced on Freeze
	conns  []net.Conn
}

// newFreezeProxy listens on a free loopback port and forwards to upstream
// (host:port) until Close.
func newFreezeProxy(upstream string) (*freezeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &freezeProxy{ln: ln, upstream: upstream, thawed: make(chan struct{})}
	close(p.thawed)
	p.wg.Go(p.accept)
	return p, nil
}

// URL is the proxy's client URL.
func (p *freezeProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Freeze stops forwarding.
func (p *freezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.thawed = true, make(chan struct{})
	}
}

// Thaw resumes forwarding.
func (p *freezeProxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines.
func (p *freezeProxy) Close() {
	_ = p.ln.Close()
	p.Thaw()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *freezeProxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

func (p *freezeProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, time.Second)
		if err != nil { // the member is down: the client tries another
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(up, down) })
		p.wg.Go(func() { p.pipe(down, up) })
	}
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or closed: either way this direction is done
			return
		}
	}
}

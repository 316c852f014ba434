package etcdtest

import (
	"net"
	"sync"
	"time"
)

// FreezeProxy forwards TCP connections from a loopback port to one etcd
// member. Freeze stops moving bytes in both directions while the
// connections stay open, as behind a hung network path; Thaw resumes. The
// e2e tests and the bench put one between each manager and each member, so
// that they can cut one manager off alone.
type FreezeProxy struct {
	ln       net.Listener
	upstream string
	wg       sync.WaitGroup

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed while thawed; replaced on Freeze
	conns  []net.Conn
}

// NewFreezeProxy listens on a free loopback port and forwards to upstream
// (host:port) until Close.
func NewFreezeProxy(upstream string) (*FreezeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FreezeProxy{ln: ln, upstream: upstream, thawed: make(chan struct{})}
	close(p.thawed)
	p.wg.Go(p.accept)
	return p, nil
}

// URL is the proxy's client URL.
func (p *FreezeProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Freeze stops forwarding.
func (p *FreezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.thawed = true, make(chan struct{})
	}
}

// Thaw resumes forwarding.
func (p *FreezeProxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines.
func (p *FreezeProxy) Close() {
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

func (p *FreezeProxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

func (p *FreezeProxy) accept() {
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
func (p *FreezeProxy) pipe(dst, src net.Conn) {
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

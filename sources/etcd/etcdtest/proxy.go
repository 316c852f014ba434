package etcdtest

import (
	"net"
	"sync"
	"time"
)

// FreezeProxy forwards TCP connections from a loopback port to one etcd
// member, one HTTP/2 frame at a time (gRPC speaks HTTP/2 in clear text
// here). It can:
//   - Freeze: stop moving bytes in both directions while the connections
//     stay open, as behind a hung network path; Thaw resumes.
//   - SetDelay: deliver every frame that long after it was read, in each
//     direction (a slow link: a round trip costs twice the delay).
//   - HoldStreams: hold the member's answers on long-lived streams (Watch,
//     and LeaseKeepAlive streams open for more than a second) while unary
//     calls pass; ReleaseStreams delivers them in order. Flow-control credit
//     for held data is returned to the member at once, so held streams
//     never block the connection.
//
// The e2e tests and the bench put one between each manager and each member,
// so that they can cut one manager off alone.
type FreezeProxy struct {
	ln       net.Listener
	upstream string
	wg       sync.WaitGroup

	mu       sync.Mutex
	frozen   bool
	thawed   chan struct{} // closed while thawed; replaced on Freeze
	delay    time.Duration
	holding  bool
	released chan struct{} // closed while not holding; replaced on HoldStreams
	conns    []net.Conn
}

// NewFreezeProxy listens on a free loopback port and forwards to upstream
// (host:port) until Close.
func NewFreezeProxy(upstream string) (*FreezeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FreezeProxy{ln: ln, upstream: upstream, thawed: make(chan struct{}), released: make(chan struct{})}
	close(p.thawed)
	close(p.released)
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

// SetDelay delays every frame read from now on by d in each direction (0:
// none). Frames keep their order.
func (p *FreezeProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// HoldStreams starts holding the member's frames on long-lived streams.
func (p *FreezeProxy) HoldStreams() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holding {
		p.holding, p.released = true, make(chan struct{})
	}
}

// ReleaseStreams delivers what was held and stops holding.
func (p *FreezeProxy) ReleaseStreams() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holding {
		p.holding = false
		close(p.released)
	}
}

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines.
func (p *FreezeProxy) Close() {
	_ = p.ln.Close()
	p.Thaw()
	p.ReleaseStreams()
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

func (p *FreezeProxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// holdState returns whether streams are held, and a channel closed on release.
func (p *FreezeProxy) holdState() (bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holding, p.released
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
		c := newH2Conn(p, down, up)
		p.wg.Go(c.readClient)
		p.wg.Go(c.writeServer)
		p.wg.Go(c.readServer)
		p.wg.Go(c.writeClient)
	}
}

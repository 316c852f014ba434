package e2e

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freezeProxy forwards TCP connections from a loopback port to one etcd
// member. Freeze stops moving bytes in both directions (connections stay
// open, as behind a hung network path); Thaw resumes. It stands between one
// manager and the cluster so a test can cut that manager off alone.
type freezeProxy struct {
	ln       net.Listener
	upstream string

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed on Thaw; replaced on Freeze
	conns  []net.Conn
}

// startFreezeProxy proxies to upstream (host:port) until t ends.
func startFreezeProxy(t *testing.T, upstream string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &freezeProxy{ln: ln, upstream: upstream, thawed: make(chan struct{})}
	close(p.thawed)
	var wg sync.WaitGroup
	wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.Thaw()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	return p
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
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		go p.pipe(up, down)
		go p.pipe(down, up)
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

package plugin

import (
	"context"
	"net"
	"net/http"
	"sync"
	"syscall"

	"github.com/go-logr/logr"
)

// Connection cap derivation: half of what RLIMIT_NOFILE leaves after a
// reserve, because each served call may hold one downstream connection too.
const (
	fdReserve   = 64
	maxConnsTop = 4096
)

// DefaultMaxConns derives the connection cap from the soft RLIMIT_NOFILE:
// (limit - 64) / 2, at least 1 and at most 4096. With 256 descriptors it is
// 96; with 1024, 480.
func DefaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 480 // what a 1024 limit gives
	}
	return connsFor(rl.Cur)
}

func connsFor(nofile uint64) int {
	if nofile > 2*maxConnsTop+fdReserve {
		return maxConnsTop
	}
	return max(1, (int(nofile)-fdReserve)/2)
}

// connLimiter caps the connections a listener hands out. At the cap it
// closes the oldest connection not running a call (idle, or still sending
// its request: the slow clients an attacker holds open); when every
// connection runs a call, Accept waits for one to close.
type connLimiter struct {
	net.Listener
	max int
	log logr.Logger

	mu     sync.Mutex
	freed  chan struct{} // closed and replaced when a connection goes away or idle
	conns  map[net.Conn]*connState
	closed bool
	logged bool
	seq    uint64 // orders connections by when they were accepted or went idle
}

type connState struct {
	since uint64 // seq when accepted, or when it last became idle
	busy  bool   // a call runs or its response is being written
}

func newConnLimiter(ln net.Listener, maxConns int, log logr.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: maxConns, log: log, freed: make(chan struct{}), conns: map[net.Conn]*connState{}}
}

// Accept waits for a connection and for room for it.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			return nil, net.ErrClosed
		}
		if len(l.conns) < l.max || l.shedLocked() {
			l.seq++
			l.conns[c] = &connState{since: l.seq}
			l.mu.Unlock()
			return c, nil
		}
		freed := l.freed
		l.mu.Unlock()
		<-freed
	}
}

// shedLocked closes the oldest connection that runs no call, if any.
func (l *connLimiter) shedLocked() bool {
	if !l.logged {
		l.logged = true
		l.log.Info("connection cap reached; shedding the oldest idle or slow connections", "maxConns", l.max)
	}
	var victim net.Conn
	var oldest uint64
	for c, st := range l.conns {
		if !st.busy && (victim == nil || st.since < oldest) {
			victim, oldest = c, st.since
		}
	}
	if victim == nil {
		return false
	}
	_ = victim.Close()
	l.removeLocked(victim)
	return true
}

func (l *connLimiter) removeLocked(c net.Conn) {
	if _, ok := l.conns[c]; !ok {
		return
	}
	delete(l.conns, c)
	l.wakeLocked()
}

// wakeLocked releases an Accept waiting for room.
func (l *connLimiter) wakeLocked() {
	close(l.freed)
	l.freed = make(chan struct{})
}

// Close stops accepting and releases a waiting Accept.
func (l *connLimiter) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		l.wakeLocked()
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// connStateHook is http.Server.ConnState: it learns when connections go idle
// and close.
func (l *connLimiter) connStateHook(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateIdle:
		if st, ok := l.conns[c]; ok {
			l.seq++
			st.busy, st.since = false, l.seq
			l.wakeLocked() // it can be shed now
		}
	case http.StateClosed, http.StateHijacked:
		l.removeLocked(c)
	}
}

// connKey carries the connection in a request's context.
type connKey struct{}

// busy marks the request's connection as running a call (or not).
func (l *connLimiter) busy(ctx context.Context, b bool) {
	if l == nil {
		return
	}
	c, _ := ctx.Value(connKey{}).(net.Conn)
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.conns[c]; ok {
		st.busy = b
	}
}

// size returns the number of open connections.
func (l *connLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

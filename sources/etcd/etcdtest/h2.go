package etcdtest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"
)

// HTTP/2 frame types and flags the proxy looks at.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
	flagEndHeaders    = 0x4
	flagPadded        = 0x8
	flagPriority      = 0x20
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// longLived is how long a LeaseKeepAlive stream must have been open to be
// held: KeepAliveOnce opens one per renewal and closes it within a round trip.
const longLived = time.Second

// frame is one chunk to forward (a whole HTTP/2 frame, or raw bytes of a
// connection that does not speak HTTP/2) and when it may be written.
type frame struct {
	b   []byte
	due time.Time
}

func (f frame) typ() byte      { return f.b[3] }
func (f frame) stream() uint32 { return binary.BigEndian.Uint32(f.b[5:9]) & 0x7fffffff }

// stream is what the client's HEADERS said about one stream.
type stream struct {
	path  string
	start time.Time
}

// h2Conn is one proxied connection: the client's frames go to the server
// (toServer), the server's to the client (toClient), each through a queue
// that applies the proxy's delay, freeze and (towards the client) hold.
type h2Conn struct {
	p        *FreezeProxy
	down, up net.Conn
	toServer chan frame
	toClient chan frame
	decided  chan struct{} // closed once raw is known
	raw      bool          // not HTTP/2: forward bytes as read

	mu           sync.Mutex
	streams      map[uint32]stream
	serverClosed bool // toServer is closed
}

func newH2Conn(p *FreezeProxy, down, up net.Conn) *h2Conn {
	return &h2Conn{p: p, down: down, up: up, toServer: make(chan frame, 4096), toClient: make(chan frame, 4096),
		decided: make(chan struct{}), streams: map[uint32]stream{}}
}

func (c *h2Conn) enqueue(ch chan frame, b []byte) {
	ch <- frame{b: b, due: time.Now().Add(c.p.currentDelay())}
}

// readClient reads the client's preface and frames; it learns each
// stream's :path from its HEADERS.
func (c *h2Conn) readClient() {
	defer func() {
		c.mu.Lock()
		c.serverClosed = true
		close(c.toServer)
		c.mu.Unlock()
	}()
	var got []byte
	buf := make([]byte, 32<<10)
	for len(got) < len(h2Preface) {
		n, err := c.down.Read(buf)
		got = append(got, buf[:n]...)
		if !strings.HasPrefix(h2Preface, string(got[:min(len(got), len(h2Preface))])) {
			c.raw = true
			close(c.decided)
			c.enqueue(c.toServer, got)
			if err == nil {
				c.copyRaw(c.down, c.toServer)
			}
			return
		}
		if err != nil {
			close(c.decided)
			return
		}
	}
	close(c.decided)
	c.enqueue(c.toServer, got[:len(h2Preface)])
	r := io.MultiReader(bytes.NewReader(got[len(h2Preface):]), c.down)
	dec := hpack.NewDecoder(4096, nil)
	var block []byte
	var blockStream uint32
	for {
		f, err := readFrame(r)
		if err != nil {
			return
		}
		switch f[3] {
		case frameHeaders:
			blockStream, block = binary.BigEndian.Uint32(f[5:9])&0x7fffffff, append(block[:0], headerFragment(f)...)
		case frameContinuation:
			block = append(block, f[9:]...)
		}
		if (f[3] == frameHeaders || f[3] == frameContinuation) && f[4]&flagEndHeaders != 0 {
			if fields, err := dec.DecodeFull(block); err == nil {
				for _, h := range fields {
					if h.Name == ":path" {
						c.mu.Lock()
						c.streams[blockStream] = stream{path: h.Value, start: time.Now()}
						c.mu.Unlock()
					}
				}
			}
		}
		c.enqueue(c.toServer, f)
	}
}

// readServer reads the server's frames.
func (c *h2Conn) readServer() {
	defer close(c.toClient)
	<-c.decided
	if c.raw {
		c.copyRaw(c.up, c.toClient)
		return
	}
	for {
		f, err := readFrame(c.up)
		if err != nil {
			return
		}
		c.enqueue(c.toClient, f)
	}
}

func (c *h2Conn) copyRaw(src net.Conn, ch chan frame) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c.enqueue(ch, bytes.Clone(buf[:n]))
		}
		if err != nil {
			return
		}
	}
}

// writeServer writes the client's frames (and the window updates the
// hold sends) to the server.
func (c *h2Conn) writeServer() {
	defer c.up.Close()
	for f := range c.toServer {
		if !c.deliver(c.up, f) {
			return
		}
	}
}

// writeClient writes the server's frames to the client, holding those of
// long-lived streams while the proxy holds streams.
func (c *h2Conn) writeClient() {
	defer c.down.Close()
	var held []frame
	blocked := false // a held stream's HEADERS came: hold everything behind it (HPACK order)
	for {
		holding, released := c.p.holdState()
		if !holding && len(held) > 0 {
			for _, f := range held {
				if !c.deliver(c.down, f) {
					return
				}
			}
			held, blocked = nil, false
		}
		var f frame
		var ok bool
		if len(held) > 0 {
			select {
			case f, ok = <-c.toClient:
			case <-released:
				continue
			}
		} else {
			f, ok = <-c.toClient
		}
		if !ok {
			return
		}
		if holding, _ = c.p.holdState(); holding && !c.raw && (blocked || c.held(f)) {
			if t := f.typ(); t == frameHeaders || t == frameContinuation {
				blocked = true
			}
			if f.typ() == frameData && len(f.b) > 9 {
				c.credit(f)
			}
			held = append(held, f)
			continue
		}
		if !c.deliver(c.down, f) {
			return
		}
	}
}

// held reports whether f belongs to a long-lived stream.
func (c *h2Conn) held(f frame) bool {
	if len(f.b) < 9 || f.stream() == 0 {
		return false
	}
	c.mu.Lock()
	s, ok := c.streams[f.stream()]
	c.mu.Unlock()
	switch {
	case !ok:
		return false
	case strings.HasSuffix(s.path, "/Watch"):
		return true
	case strings.HasSuffix(s.path, "/LeaseKeepAlive"):
		return time.Since(s.start) > longLived
	}
	return false
}

// credit returns flow-control credit for a held DATA frame to the server,
// on the connection and the stream.
func (c *h2Conn) credit(f frame) {
	n := uint32(len(f.b) - 9)
	for _, id := range []uint32{0, f.stream()} {
		w := make([]byte, 13)
		w[2], w[3] = 4, frameWindowUpdate
		binary.BigEndian.PutUint32(w[5:9], id)
		binary.BigEndian.PutUint32(w[9:13], n)
		c.mu.Lock()
		if !c.serverClosed {
			select {
			case c.toServer <- frame{b: w, due: time.Now()}:
			default: // the queue is full: the server gets the credit from the client later
			}
		}
		c.mu.Unlock()
	}
}

// deliver waits until f is due and the proxy is thawed, then writes it.
func (c *h2Conn) deliver(dst net.Conn, f frame) bool {
	if d := time.Until(f.due); d > 0 {
		time.Sleep(d)
	}
	<-c.p.gate()
	_, err := dst.Write(f.b)
	return err == nil
}

// readFrame reads one whole HTTP/2 frame (header and payload).
func readFrame(r io.Reader) ([]byte, error) {
	var h [9]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	f := make([]byte, 9+n)
	copy(f, h[:])
	if _, err := io.ReadFull(r, f[9:]); err != nil {
		return nil, err
	}
	return f, nil
}

// headerFragment is a HEADERS frame's header block fragment, without
// padding and priority fields.
func headerFragment(f []byte) []byte {
	p := f[9:]
	pad := 0
	if f[4]&flagPadded != 0 && len(p) > 0 {
		pad = int(p[0])
		p = p[1:]
	}
	if f[4]&flagPriority != 0 && len(p) >= 5 {
		p = p[5:]
	}
	if pad <= len(p) {
		p = p[:len(p)-pad]
	}
	return p
}

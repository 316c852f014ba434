package plugin

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// TCPOptions configure ServeTCP.
type TCPOptions struct {
	// Addr is HOST:PORT to listen on (see ParseTCPAddress).
	Addr string
	// TLS, when set, serves TLS with it; set ClientAuth (TLSFiles with a CA)
	// for mutual TLS. Nil serves plaintext, which needs a loopback Addr or
	// Insecure.
	TLS *tls.Config
	// Insecure allows plaintext on an address that is not loopback. The
	// caller logs a warning when it uses it.
	Insecure bool
}

// Validate refuses an empty address and plaintext off loopback without
// Insecure.
func (o TCPOptions) Validate() error {
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("listen address %q: %w", o.Addr, err)
	}
	if o.TLS == nil && !o.Insecure && !IsLoopback(o.Addr) {
		return fmt.Errorf("listen address %s is not loopback: serve it with TLS (--tls-cert, --tls-key, --tls-ca) or pass --insecure", o.Addr)
	}
	return nil
}

// URL is the URL a client reaches the listener at: https://HOST:PORT with
// TLS, else http://HOST:PORT.
func (o TCPOptions) URL(hostport string) string {
	if o.TLS != nil {
		return "https://" + hostport
	}
	return "http://" + hostport
}

// ServeTCP serves g over TCP as Serve does on a unix socket: the same
// JSON-RPC API, limits (body size, header, body and write deadlines, idle
// timeout) and connection cap. With TLS the handshake must finish within the
// header deadline; failed handshakes (no client certificate, another CA,
// plaintext to the TLS port) are logged at info as refused connections.
func ServeTCP(g Group, tcp TCPOptions, opts ServerOptions) (*Server, error) {
	if g == nil {
		return nil, errors.New("plugin: ServeTCP needs a Group")
	}
	if err := tcp.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	ln, err := net.Listen("tcp", tcp.Addr)
	if err != nil {
		return nil, err
	}
	label := tcp.URL(ln.Addr().String())
	if tcp.TLS != nil {
		ln = tls.NewListener(ln, tcp.TLS)
	}
	return serveOn(ln, label, g, opts), nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

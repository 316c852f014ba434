package plugin

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/infrakit-manager/manager/internal/field"
)

// TCPOptions configure ServeTCP. Addr has no default; the zero value
// of the rest serves plaintext on loopback only.
type TCPOptions struct {
	// Addr is HOST:PORT to listen on (see ParseTCPAddress). Required.
	Addr string
	// TLS, when set, serves TLS with it; set ClientAuth (TLSFiles with a CA)
	// for mutual TLS. Nil serves plaintext, which needs a loopback Addr or
	// Insecure.
	TLS *tls.Config
	// Insecure allows plaintext on an address that is not loopback. The
	// caller logs a warning when it uses it.
	Insecure bool
}

// Validate refuses an address that is not HOST:PORT and plaintext off
// loopback without Insecure. It changes nothing; errors name fields.
func (o TCPOptions) Validate() error {
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return field.Errorf("Addr", "%q: %w", o.Addr, err)
	}
	if o.TLS == nil && !o.Insecure && !IsLoopback(o.Addr) {
		return field.Errorf("Addr", "%s is not loopback: serve it with TLS or set Insecure", o.Addr)
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
		return nil, fmt.Errorf("plugin: %w", err)
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
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

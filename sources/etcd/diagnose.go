package etcd

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Diagnose says, per endpoint of opts, why a client may get no answer:
// a refused or timed-out TCP connection, a TLS handshake that fails (and
// why), an https:// endpoint that speaks plain text, or an http:// endpoint
// that speaks TLS. It never sends an etcd request; each probe is bounded by
// opts.DialTimeout. An endpoint that shows none of these is "reachable".
func Diagnose(opts ClientOptions) string {
	tc, err := tlsConfig(opts)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, ep := range opts.Endpoints {
		out = append(out, ep+": "+probe(ep, tc, opts.DialTimeout))
	}
	return strings.Join(out, "; ")
}

// probe checks one endpoint.
func probe(ep string, tc *tls.Config, timeout time.Duration) string {
	u, err := url.Parse(ep)
	if err != nil {
		return err.Error()
	}
	d := &net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		return fmt.Sprintf("cannot connect: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if tc != nil {
		c = tc.Clone()
		c.ServerName = u.Hostname()
	}
	if u.Scheme == "https" {
		if err := tls.Client(conn, c).Handshake(); err != nil {
			return fmt.Sprintf("TLS handshake failed: %v", err)
		}
		return "reachable (TLS handshake done)"
	}
	// http://: a member that speaks TLS answers a TLS hello
	c.InsecureSkipVerify = true // only to tell TLS from plain text; nothing is sent after
	if err := tls.Client(conn, c).Handshake(); err == nil {
		return "speaks TLS: use https:// (with --cacert)"
	}
	return "reachable"
}

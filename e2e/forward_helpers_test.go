package e2e

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/plugin"
)

// tlsCluster is an os-mode cluster whose managers also listen on loopback
// TCP with mutual TLS, with certificates made as hack/certs makes them.
type tlsCluster struct {
	*osCluster
	certs string            // ca.pem, m1..m3.pem, cli.pem; rogue.pem, intruder.pem
	nodes []*osNode         // m1, m2, m3
	addr  map[string]string // node name -> 127.0.0.1:port
}

// freeLoopbackAddr returns a loopback address with a port free now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// newTLSCluster starts three nodes m1, m2, m3 (m1 leads), each with its own
// downstream and a manager listening on its own loopback port with TLS;
// sim holds extra flags of a node's downstream by node name.
func newTLSCluster(t *testing.T, sim map[string][]string) *tlsCluster {
	t.Helper()
	c := &tlsCluster{osCluster: newOSCluster(t, "m1"), addr: map[string]string{}}
	c.certs = filepath.Join(c.root, "certs")
	o := certgen.DefaultOptions()
	o.Dir, o.Names = c.certs, []string{"m1", "m2", "m3", "cli"}
	require.NoError(t, certgen.Write(o))
	o.CAName, o.Names = "rogue", []string{"intruder"}
	require.NoError(t, certgen.Write(o))
	for _, name := range []string{"m1", "m2", "m3"} {
		n := c.node(name)
		c.addr[name] = freeLoopbackAddr(t)
		n.startSim(sim[name]...)
		n.startManager("--listen", "tcp://"+c.addr[name],
			"--tls-cert", c.pem(name), "--tls-key", c.key(name), "--tls-ca", c.pem("ca"))
		c.nodes = append(c.nodes, n)
	}
	c.waitLocation("m1")
	return c
}

func (c *tlsCluster) pem(name string) string { return filepath.Join(c.certs, name+".pem") }
func (c *tlsCluster) key(name string) string { return filepath.Join(c.certs, name+"-key.pem") }

// url is the advertised URL of node name.
func (c *tlsCluster) url(name string) string { return "https://" + c.addr[name] }

// waitLocation waits until every running manager names leader's URL as the
// leader's location.
func (c *tlsCluster) waitLocation(leader string) {
	c.t.Helper()
	want := c.url(leader)
	for _, n := range c.nodes {
		if n.mgr == nil || n.mgr.exited() {
			continue
		}
		cl := plugin.NewClient(n.socket(), plugin.ClientOptions{Timeout: 5 * time.Second})
		require.Eventually(c.t, func() bool {
			u, err := cl.LeaderLocation(context.Background())
			return err == nil && u != nil && u.String() == want
		}, eventually, tick, "node %s never named %s as the leader", n.name, want)
		cl.Close()
	}
}

// cliArgs are the CLI's global flags to reach node name over TCP as "cli".
func (c *tlsCluster) cliArgs(name string) []string {
	return []string{"--host", "tcp://" + c.addr[name], "--tls-ca", c.pem("ca"), "--tls-cert", c.pem("cli"), "--tls-key", c.key("cli")}
}

// client is a Go client of node name over mutual TLS, as cert (a name in
// c.certs) and trusting ca.
func (c *tlsCluster) client(name, cert string, timeout time.Duration) *plugin.Client {
	c.t.Helper()
	f := plugin.TLSFiles{CA: c.pem("ca")}
	if cert != "" {
		f.Cert, f.Key = c.pem(cert), c.key(cert)
	}
	conf, err := f.ClientConfig()
	require.NoError(c.t, err)
	cl, err := plugin.NewURLClient(&url.URL{Scheme: "tcp", Host: c.addr[name]}, conf, plugin.ClientOptions{Timeout: timeout})
	require.NoError(c.t, err)
	c.t.Cleanup(cl.Close)
	return cl
}

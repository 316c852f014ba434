package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

const (
	// forwardGoal is the p50 a commit through a follower may cost beyond
	// one through the leader, on loopback.
	forwardGoal = time.Millisecond
	// forwardHandoverCommits are the commits sent through a follower while
	// the leader file moves.
	forwardHandoverCommits = 200
	// forwardHandoverClients send them concurrently.
	forwardHandoverClients = 4
)

const measureForward = "commit through a follower vs through the leader (TCP, mutual TLS)"

// forwardCluster is three os-mode nodes whose managers listen on loopback
// TCP with mutual TLS (certificates as hack/certs makes them).
type forwardCluster struct {
	*osCluster
	certs string
	nodes []*osNode
	addrs []string
}

func (h *harness) newForwardCluster(ctx context.Context) (*forwardCluster, error) {
	c, err := h.newOSCluster("fwd")
	if err != nil {
		return nil, err
	}
	fc := &forwardCluster{osCluster: c, certs: filepath.Join(c.dir, "certs")}
	o := certgen.DefaultOptions()
	o.Dir, o.Names = fc.certs, []string{"m1", "m2", "m3", "cli"}
	if err := certgen.Write(o); err != nil {
		return nil, err
	}
	if _, err := c.setLeader("m1"); err != nil {
		return nil, err
	}
	for _, name := range []string{"m1", "m2", "m3"} {
		addr, err := freeLoopback()
		if err != nil {
			return nil, err
		}
		n, err := c.nodeWith(ctx, name, nil, "--listen", "tcp://"+addr,
			"--tls-cert", fc.file(name+".pem"), "--tls-key", fc.file(name+"-key.pem"), "--tls-ca", fc.file("ca.pem"))
		if err != nil {
			fc.stop()
			return nil, err
		}
		fc.nodes, fc.addrs = append(fc.nodes, n), append(fc.addrs, addr)
	}
	return fc, nil
}

func (fc *forwardCluster) file(name string) string { return filepath.Join(fc.certs, name) }

func (fc *forwardCluster) stop() {
	for _, n := range fc.nodes {
		n.stop()
	}
}

// client is a client of node i over mutual TLS, as "cli".
func (fc *forwardCluster) client(i int) (*plugin.Client, error) {
	conf, err := plugin.TLSFiles{CA: fc.file("ca.pem"), Cert: fc.file("cli.pem"), Key: fc.file("cli-key.pem")}.ClientConfig()
	if err != nil {
		return nil, err
	}
	return plugin.NewURLClient(&url.URL{Scheme: "tcp", Host: fc.addrs[i]}, conf, plugin.ClientOptions{Timeout: clientTimeout})
}

// waitLocation waits until every node names node i as the leader.
func (fc *forwardCluster) waitLocation(ctx context.Context, i int) error {
	want := "https://" + fc.addrs[i]
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range fc.nodes {
		cl := plugin.NewClient(filepath.Join(n.pluginDir, n.name), plugin.ClientOptions{Timeout: 5 * time.Second})
		for {
			u, err := cl.LeaderLocation(ctx)
			if err == nil && u != nil && u.String() == want {
				break
			}
			if time.Now().After(deadline) {
				cl.Close()
				return fmt.Errorf("node %s never named %s as the leader (last: %v, %v)", n.name, want, u, err)
			}
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				cl.Close()
				return err
			}
		}
		cl.Close()
	}
	return nil
}

// forward measures commits through a follower against commits through the
// leader in the same run, then forwarding during a handover.
func (h *harness) forward(ctx context.Context) ([]row, error) {
	fc, err := h.newForwardCluster(ctx)
	if err != nil {
		return nil, err
	}
	defer fc.stop()
	if err := fc.waitLocation(ctx, 0); err != nil {
		return nil, err
	}
	leader, err := fc.client(0)
	if err != nil {
		return nil, err
	}
	defer leader.Close()
	follower, err := fc.client(1)
	if err != nil {
		return nil, err
	}
	defer follower.Close()
	// Warm up both paths, then interleave rounds so load changes hit both.
	gen := 0
	for _, cl := range []*plugin.Client{leader, follower} {
		if _, err := commitSeq(ctx, cl, "f0", 20, gen); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		gen += 20
	}
	var viaLeader, viaFollower []time.Duration
	each := h.opts.Commits/commitRounds + 1
	for range commitRounds {
		l, err := commitSeq(ctx, leader, "f0", each, gen)
		if err != nil {
			return nil, err
		}
		gen += each
		f, err := commitSeq(ctx, follower, "f0", each, gen)
		if err != nil {
			return nil, err
		}
		gen += each
		viaLeader, viaFollower = append(viaLeader, l...), append(viaFollower, f...)
	}
	sl, sf := summarize(viaLeader), summarize(viaFollower)
	over := sf.P50 - sl.P50
	rows := []row{
		infoRow("commit latency, 1 client, TCP+mutual TLS to the leader", sl.percentiles(), ""),
		goalRow(measureForward, sf.percentiles()+fmt.Sprintf("; p50 over the leader: %s", ms(over)),
			"p50 overhead ≤ "+ms(forwardGoal), over <= forwardGoal, ""),
	}
	hr, err := h.forwardHandover(ctx, fc)
	return append(rows, hr...), err
}

// commitSeq commits group id n times with rising generations.
func commitSeq(ctx context.Context, cl *plugin.Client, id string, n, gen int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if _, err := cl.CommitGroup(ctx, groupSpec(id, gen+i), false); err != nil {
			return nil, fmt.Errorf("commit %s: %w", id, err)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// storedIDs reads the shared store's group IDs.
func (c *osCluster) storedIDs() (map[string]bool, error) {
	data, err := os.ReadFile(filepath.Join(c.storeDir, "global.config"))
	if err != nil {
		return nil, err
	}
	cfg, err := sources.DecodeConfig(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(cfg.Groups))
	for id := range cfg.Groups {
		out[string(id)] = true
	}
	return out, nil
}

// freeLoopback returns a 127.0.0.1 address whose port is free now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/sources/etcd"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

// etcdLab is hack/etcd-lab.sh with this run's LAB: a cluster of
// etcdMembers on loopback ports that only this run starts and stops.
type etcdLab struct{ lab }

// member runs a lab command about member i (kill, start).
func (l etcdLab) member(ctx context.Context, cmd string, i int) error {
	_, err := l.run(ctx, 30*time.Second, cmd, strconv.Itoa(i))
	return err
}

// etcdNode is one etcd-mode node: a simulator (its events logged) and an
// `infrakit-manager etcd` in a plugin directory of their own. With proxies,
// the manager reaches each member through an etcdtest.FreezeProxy of its own.
type etcdNode struct {
	cand      string // the manager's --candidate, the election key's value
	pluginDir string
	args      []string // the manager's arguments
	events    *tailer
	sim, mgr  *proc
	proxies   []*etcdtest.FreezeProxy
}

func (n *etcdNode) socket() string { return filepath.Join(n.pluginDir, etcdMgrName) }

// etcdNodeOf starts a simulator and a manager on prefix, candidate cand,
// with extra etcd flags. With viaProxy the manager's endpoints are proxies
// of its own.
func (h *harness) etcdNodeOf(ctx context.Context, endpoints []string, prefix, cand string, viaProxy bool, extra ...string) (*etcdNode, error) {
	n := &etcdNode{cand: cand, pluginDir: filepath.Join(h.root, cand)}
	if err := os.MkdirAll(n.pluginDir, 0o700); err != nil {
		return nil, err
	}
	eps := endpoints
	if viaProxy {
		eps = nil
		for _, ep := range endpoints {
			p, err := etcdtest.NewFreezeProxy(strings.TrimPrefix(ep, "http://"))
			if err != nil {
				n.stop()
				return nil, err
			}
			n.proxies = append(n.proxies, p)
			eps = append(eps, p.URL())
		}
	}
	n.events = &tailer{path: filepath.Join(h.root, cand+".events")}
	var err error
	if n.sim, err = h.startSim(ctx, n.pluginDir, downstream, "--events", n.events.path); err != nil {
		n.stop()
		return nil, err
	}
	n.args = []string{"--name", etcdMgrName, "--plugin-dir", n.pluginDir,
		"etcd", "--endpoints", strings.Join(eps, ","), "--prefix", prefix, "--candidate", cand}
	n.args = append(n.args, extra...)
	if err := h.startEtcdManager(ctx, n); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// startEtcdManager (re)starts n's manager. A killed manager leaves its
// socket behind; it is removed first so that the wait sees the new one.
func (h *harness) startEtcdManager(ctx context.Context, n *etcdNode) error {
	if err := os.Remove(n.socket()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var err error
	n.mgr, err = h.startProcess(ctx, n.socket(), h.bin(binManager), n.args...)
	return err
}

// kill sends SIGKILL to n's manager and waits for it to exit.
func (n *etcdNode) kill() error {
	if err := n.mgr.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill -9 %s: %w", n.mgr.name, err)
	}
	<-n.mgr.done
	return nil
}

// freeze stops (or with thaw resumes) every byte between n's manager and etcd.
func (n *etcdNode) freeze(thaw bool) {
	for _, p := range n.proxies {
		if thaw {
			p.Thaw()
		} else {
			p.Freeze()
		}
	}
}

// delay delays every byte between n's manager and etcd by d each way (0: none).
func (n *etcdNode) delay(d time.Duration) {
	for _, p := range n.proxies {
		p.SetDelay(d)
	}
}

// stop stops n's processes and proxies.
func (n *etcdNode) stop() {
	for _, p := range []*proc{n.mgr, n.sim} {
		if p != nil {
			_ = p.stop()
		}
	}
	for _, p := range n.proxies {
		p.Close()
	}
}

// holder returns the candidate that leads prefix's election ("" if none).
func holder(ctx context.Context, cli *clientv3.Client, prefix string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix+"/election/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("election of %s: %w", prefix, err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// waitHolder waits until one of nodes leads prefix's election and returns it.
func waitHolder(ctx context.Context, cli *clientv3.Client, prefix string, nodes []*etcdNode, timeout time.Duration) (*etcdNode, error) {
	deadline := time.Now().Add(timeout)
	for {
		name, err := holder(ctx, cli, prefix)
		if err == nil {
			for _, n := range nodes {
				if n.cand == name {
					return n, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no manager of %s leads after %s (holder %q, %v): %w", prefix, timeout, name, err, errTimeout)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// others returns nodes but n.
func others(nodes []*etcdNode, n *etcdNode) []*etcdNode {
	var out []*etcdNode
	for _, o := range nodes {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

func eventLogs(nodes []*etcdNode) []*tailer {
	out := make([]*tailer, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.events)
	}
	return out
}

// importGroups writes count groups (g00000, …) onto prefix with the built
// binary's `etcd import`, from a global.config in the original's format.
func (h *harness) importGroups(ctx context.Context, endpoints []string, prefix string, count int) (time.Duration, error) {
	c, err := h.newOSCluster(fmt.Sprintf("ei%d-", count))
	if err != nil {
		return 0, err
	}
	if _, err := c.store(count); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin(binManager), "etcd", "--endpoints", strings.Join(endpoints, ","),
		"--prefix", prefix, "import", filepath.Join(c.storeDir, "global.config"))
	t := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("etcd import of %d groups: %w: %s", count, err, strings.TrimSpace(string(out)))
	}
	return time.Since(t), nil
}

// newEtcdClient is a client of the lab for the harness's own reads.
func newEtcdClient(endpoints []string) (*clientv3.Client, error) {
	o := etcd.DefaultClientOptions()
	o.Endpoints = endpoints
	return etcd.NewClient(o)
}

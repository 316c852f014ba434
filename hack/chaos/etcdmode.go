package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

const (
	// sample is how often the election is read to learn who holds it.
	sample = 50 * time.Millisecond
	// prefix is the managers' --prefix.
	prefix = "/chaos"
)

// etcdCluster is etcd mode: a real 3-member cluster (hack/etcd-lab.sh),
// each manager reaching every member through a freezable proxy of its
// own. The election decides who leads; the run reads the election key
// every sample period to record the holds.
type etcdCluster struct {
	c       *chaos
	lab     string
	script  string
	members []string // client URLs
	proxies [][]*etcdtest.FreezeProxy
	cli     *clientv3.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu   sync.Mutex
	cur  string
	last time.Time // last sample
}

func newEtcdCluster(ctx context.Context, c *chaos) (*etcdCluster, error) {
	script, err := filepath.Abs("hack/etcd-lab.sh")
	if err != nil {
		return nil, err
	}
	// Named like the tests' labs (iketcd*), so that .ci/run's exit trap
	// tears it down if this run is killed.
	lab, err := os.MkdirTemp("", "iketcd-chaos")
	if err != nil {
		return nil, err
	}
	e := &etcdCluster{c: c, lab: lab, script: script}
	if _, err := e.run(ctx, 90*time.Second, "up", "3"); err != nil {
		_, _ = e.run(context.Background(), 60*time.Second, "down")
		return nil, err
	}
	out, err := e.run(ctx, 10*time.Second, "endpoints")
	if err != nil {
		e.close()
		return nil, err
	}
	e.members = strings.Split(strings.TrimSpace(out), ",")
	for range 3 {
		var ps []*etcdtest.FreezeProxy
		for _, m := range e.members {
			p, err := etcdtest.NewFreezeProxy(strings.TrimPrefix(m, "http://"))
			if err != nil {
				e.close()
				return nil, err
			}
			ps = append(ps, p)
		}
		e.proxies = append(e.proxies, ps)
	}
	e.cli, err = clientv3.New(clientv3.Config{Endpoints: e.members, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Go(func() { e.watch(sctx) })
	return e, nil
}

// run runs the lab script with a deadline.
func (e *etcdCluster) run(ctx context.Context, d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{e.script}, args...)...)
	cmd.Env = append(os.Environ(), "LAB="+e.lab)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "", fmt.Errorf("etcd-lab.sh %s: %w: %s", strings.Join(args, " "), err, stderr)
	}
	return string(out), nil
}

func (e *etcdCluster) managerArgs(i int) []string {
	var urls []string
	for _, p := range e.proxies[i] {
		urls = append(urls, p.URL())
	}
	return []string{"etcd", "--endpoints", strings.Join(urls, ","), "--prefix", prefix,
		"--lease-duration", lease.String(), "--candidate", e.c.nodes[i].name}
}

// watch reads the election every sample period: the candidate whose key
// was created first holds it.
func (e *etcdCluster) watch(ctx context.Context) {
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		resp, err := e.cli.Get(cctx, prefix+"/election/", clientv3.WithPrefix(),
			clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
		cancel()
		now := time.Now()
		if err == nil {
			holder := ""
			if len(resp.Kvs) > 0 {
				holder = string(resp.Kvs[0].Value)
			}
			e.mu.Lock()
			if holder != e.cur {
				if e.cur != "" {
					e.c.rec.holdTo(e.cur, now)
				}
				if holder != "" {
					// It may have begun right after the previous sample.
					from := e.last
					if from.IsZero() {
						from = now
					}
					e.c.rec.holdFrom(holder, from)
				}
				e.c.rec.step("election: %q holds", holder)
				e.cur = holder
			}
			e.last = now
			e.mu.Unlock()
		}
		sleep(ctx, sample)
	}
}

func (e *etcdCluster) holder() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

// flip: the holder is cut off from etcd (its proxies frozen) until its
// lease runs out and another wins; or, one time in three, killed -9 (as
// the process faults do) so the election moves on by TTL.
func (e *etcdCluster) flip(ctx context.Context, c *chaos) {
	h := e.holder()
	idx := -1
	for i, n := range c.nodes {
		if n.name == h {
			idx = i
		}
	}
	if idx < 0 {
		c.rec.fault("leader-flip", "nobody holds the election; nothing to flip")
		return
	}
	d := lease + c.between(500*time.Millisecond, 2*time.Second)
	c.rec.fault("leader-flip", "%s cut off from etcd for %s", h, d.Round(time.Millisecond))
	e.stall(ctx, idx, d)
}

// stall freezes manager i's proxies for d.
func (e *etcdCluster) stall(ctx context.Context, i int, d time.Duration) {
	for _, p := range e.proxies[i] {
		p.Freeze()
	}
	sleep(ctx, d)
	for _, p := range e.proxies[i] {
		p.Thaw()
	}
}

// fault: a connection stall (one manager's proxies frozen for less or more
// than a lease), or a member killed and restarted.
func (e *etcdCluster) fault(ctx context.Context, c *chaos) {
	switch c.intn(2) {
	case 0:
		i := c.intn(len(c.nodes))
		d := c.between(200*time.Millisecond, 2*lease)
		c.rec.fault("etcd-stall", "%s's connections frozen for %s", c.nodes[i].name, d.Round(time.Millisecond))
		e.stall(ctx, i, d)
	default:
		m := 1 + c.intn(3)
		d := c.between(500*time.Millisecond, 4*time.Second)
		c.rec.fault("etcd-member-kill", "member %d killed, restarted after %s", m, d.Round(time.Millisecond))
		if _, err := e.run(ctx, 30*time.Second, "kill", fmt.Sprint(m)); err != nil {
			c.rec.step("%v", err)
			return
		}
		sleep(ctx, d)
		if _, err := e.run(context.Background(), 60*time.Second, "start", fmt.Sprint(m)); err != nil {
			c.rec.step("%v", err)
		}
	}
}

// heal thaws every proxy, waits for every member to be healthy and for
// someone to hold the election.
func (e *etcdCluster) heal(ctx context.Context, c *chaos) error {
	for _, ps := range e.proxies {
		for _, p := range ps {
			p.Thaw()
		}
	}
	if _, err := e.run(ctx, 60*time.Second, "wait", "50"); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.holder() == "" {
		if time.Now().After(deadline) {
			return fmt.Errorf("nobody holds the election 30s after the faults stopped")
		}
		sleep(ctx, sample)
	}
	return nil
}

func (e *etcdCluster) close() {
	if e.cancel != nil {
		e.cancel()
		e.wg.Wait()
	}
	if e.cli != nil {
		_ = e.cli.Close()
	}
	for _, ps := range e.proxies {
		for _, p := range ps {
			p.Close()
		}
	}
	_, _ = e.run(context.Background(), 60*time.Second, "down")
}

var _ cluster = (*etcdCluster)(nil)

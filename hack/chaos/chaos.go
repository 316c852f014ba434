package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

// lease is the managers' --lease-duration (both modes' default).
const lease = 2 * time.Second

// cluster is what a mode provides: how a manager reaches its store and
// leadership source, who leads, and the mode's own faults.
type cluster interface {
	// managerArgs are the mode's arguments of manager i.
	managerArgs(i int) []string
	// holder is who the run believes leads ("" nobody).
	holder() string
	// flip makes another manager (or nobody) lead.
	flip(ctx context.Context, c *chaos)
	// fault injects one of the mode's own faults, chosen by rng.
	fault(ctx context.Context, c *chaos)
	// heal undoes the mode's faults and makes sure someone leads.
	heal(ctx context.Context, c *chaos) error
	close()
}

// node is one manager with its own downstream simulator.
type node struct {
	name      string
	pluginDir string
	mu        sync.Mutex
	mgr, sim  *proc
	simGen    int
}

// chaos is one run of one mode.
type chaos struct {
	modeName string
	bin      string
	dir      string
	rng      *dice // the schedule's draws: a function of the seed
	cli      *dice // the clients' draws, a stream of their own
	rec      *recorder
	procs    procs
	nodes    []*node
	cl       cluster
}

// dice is a seeded random source safe for concurrent use.
type dice struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newDice(seed, stream uint64) *dice { return &dice{r: rand.New(rand.NewPCG(seed, stream))} }

func (d *dice) intn(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.IntN(n)
}

// between returns a duration in [lo, hi).
func (d *dice) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(d.intn(int(hi-lo)))
}

// intn and between draw from the schedule's stream.
func (c *chaos) intn(n int) int { return c.rng.intn(n) }

func (c *chaos) between(lo, hi time.Duration) time.Duration { return c.rng.between(lo, hi) }

func (c *chaos) socket(i int) string { return filepath.Join(c.nodes[i].pluginDir, c.nodes[i].name) }

func (c *chaos) client(i int) *plugin.Client {
	o := plugin.DefaultClientOptions()
	o.Timeout = 5 * time.Second
	return plugin.NewClient(c.socket(i), o)
}

// startSim starts node i's downstream simulator with a new event file
// (one per incarnation: a killed simulator may leave half a line).
func (c *chaos) startSim(ctx context.Context, i int) error {
	n := c.nodes[i]
	n.mu.Lock()
	n.simGen++
	gen := n.simGen
	n.mu.Unlock()
	sock := filepath.Join(n.pluginDir, "group-stateless")
	_ = os.Remove(sock)
	p, err := c.procs.start(n.name+"-sim", filepath.Join(c.dir, n.name+".sim.log"), filepath.Join(c.bin, "infrakit-group-sim"),
		"--plugin-dir", n.pluginDir, "--events", filepath.Join(c.dir, fmt.Sprintf("%s.events.%d", n.name, gen)))
	if err != nil {
		return err
	}
	if err := waitSocket(ctx, p, sock); err != nil {
		return err
	}
	n.mu.Lock()
	n.sim = p
	n.mu.Unlock()
	return nil
}

// startManager starts node i's manager.
func (c *chaos) startManager(ctx context.Context, i int) error {
	n := c.nodes[i]
	_ = os.Remove(c.socket(i))
	args := append([]string{"--name", n.name, "--plugin-dir", n.pluginDir, "--resync-interval", "2s",
		"--call-timeout", "2s", "--max-backoff", "2s", "--log-format", "json"}, c.cl.managerArgs(i)...)
	p, err := c.procs.start(n.name, filepath.Join(c.dir, n.name+".log"), filepath.Join(c.bin, "infrakit-manager"), args...)
	if err != nil {
		return err
	}
	if err := waitSocket(ctx, p, c.socket(i)); err != nil {
		return err
	}
	n.mu.Lock()
	n.mgr = p
	n.mu.Unlock()
	return nil
}

func (c *chaos) manager(i int) *proc {
	n := c.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mgr
}

func (c *chaos) simProc(i int) *proc {
	n := c.nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sim
}

// schedule injects faults until ctx is done: each step a leader flip, a
// process fault or one of the mode's own faults, then a pause.
func (c *chaos) schedule(ctx context.Context) {
	for ctx.Err() == nil {
		i := c.intn(len(c.nodes))
		name := c.nodes[i].name
		switch x := c.intn(100); {
		case x < 25:
			c.cl.flip(ctx, c)
		case x < 40:
			down := c.between(100*time.Millisecond, 2*time.Second)
			c.rec.fault("kill-9", "%s, restart after %s", name, down.Round(time.Millisecond))
			c.manager(i).kill()
			sleep(ctx, down)
			if err := c.startManager(context.Background(), i); err != nil {
				c.rec.step("restart %s failed: %v", name, err)
			}
		case x < 55:
			d := c.between(200*time.Millisecond, 3*time.Second)
			c.rec.fault("sigstop", "%s for %s", name, d.Round(time.Millisecond))
			p := c.manager(i)
			from := time.Now()
			p.signal(syscall.SIGSTOP)
			sleep(ctx, d)
			p.signal(syscall.SIGCONT)
			c.rec.freeze(name, from, time.Now())
		case x < 68:
			c.rec.fault("downstream-restart", "%s's simulator (kill -9, state lost)", name)
			c.simProc(i).kill()
			sleep(ctx, c.between(50*time.Millisecond, time.Second))
			if err := c.startSim(context.Background(), i); err != nil {
				c.rec.step("restart %s's simulator failed: %v", name, err)
			}
		default:
			c.cl.fault(ctx, c)
		}
		sleep(ctx, c.between(100*time.Millisecond, 800*time.Millisecond))
	}
}

// heal undoes every fault: stopped managers continued, dead processes
// restarted, the mode's faults undone, someone named leader.
func (c *chaos) heal(ctx context.Context) error {
	c.rec.step("faults stop")
	for i := range c.nodes {
		if p := c.manager(i); p.alive() {
			p.signal(syscall.SIGCONT)
		} else if err := c.startManager(ctx, i); err != nil {
			return err
		}
		if !c.simProc(i).alive() {
			if err := c.startSim(ctx, i); err != nil {
				return err
			}
		}
	}
	return c.cl.heal(ctx, c)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

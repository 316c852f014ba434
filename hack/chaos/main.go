package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/infrakit-manager/manager/internal/invariant"
)

type options struct {
	modes    string
	seed     uint64
	duration time.Duration
	clients  int
	bin      string
	keep     bool
}

func main() {
	var o options
	flag.StringVar(&o.modes, "modes", "os,etcd", "modes to run, comma-separated: os, etcd")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the schedule")
	flag.DurationVar(&o.duration, "duration", 45*time.Second, "how long faults are injected, per mode")
	flag.IntVar(&o.clients, "clients", 3, "concurrent clients")
	flag.StringVar(&o.bin, "bin", "build", "directory of infrakit-manager and infrakit-group-sim")
	flag.BoolVar(&o.keep, "keep", false, "keep the run's directory (logs, event files)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed := false
	for _, m := range strings.Split(o.modes, ",") {
		ok, err := runMode(ctx, strings.TrimSpace(m), o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: mode=%s: %v\n", m, err)
			os.Exit(2)
		}
		failed = failed || !ok
	}
	if failed {
		os.Exit(1)
	}
}

// runMode runs one mode's schedule and check, and prints its summary line.
func runMode(ctx context.Context, mode string, o options) (bool, error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return false, err
	}
	dir, err := os.MkdirTemp("", "ikchaos-"+mode)
	if err != nil {
		return false, err
	}
	c := &chaos{modeName: mode, bin: bin, dir: dir, rng: newDice(o.seed, 1), cli: newDice(o.seed, 2), rec: newRecorder()}
	defer func() {
		c.procs.killAll()
		if c.cl != nil {
			c.cl.close()
		}
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
	}()
	rules := invariant.Rules{Lease: lease, Slack: 100 * time.Millisecond, Frozen: 500 * time.Millisecond}
	switch mode {
	case "os":
		c.cl, err = newOSCluster(c)
	case "etcd":
		var ec *etcdCluster
		ec, err = newEtcdCluster(ctx, c)
		c.cl = ec
		rules.Slack = 100*time.Millisecond + sample
	default:
		err = fmt.Errorf("unknown mode %q (want os or etcd)", mode)
	}
	if err != nil {
		return false, err
	}
	for i := range 3 {
		c.nodes = append(c.nodes, &node{name: fmt.Sprintf("m%d", i), pluginDir: filepath.Join(dir, fmt.Sprintf("p%d", i))})
		if err := os.MkdirAll(c.nodes[i].pluginDir, 0o700); err != nil {
			return false, err
		}
	}
	start := time.Now()
	for i := range c.nodes {
		if err := c.startSim(ctx, i); err != nil {
			return false, err
		}
		if err := c.startManager(ctx, i); err != nil {
			return false, err
		}
	}
	if err := c.cl.heal(ctx, c); err != nil { // someone leads
		return false, err
	}
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	done := make(chan struct{})
	go func() { c.clients(runCtx, o.clients); close(done) }()
	c.schedule(runCtx)
	<-done
	cancel()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err := c.heal(ctx); err != nil {
		return false, fmt.Errorf("heal: %w", err)
	}
	vs, frozen, err := c.check(ctx, rules, 60*time.Second)
	if err != nil {
		return false, err
	}
	h := c.rec.history()
	effects, _ := c.effects()
	acked := 0
	for _, q := range h.Requests {
		if q.Outcome == invariant.Acked {
			acked++
		}
	}
	fmt.Printf("chaos: mode=%s seed=%d duration=%s operations=%d acked=%d downstream-changes=%d faults=%s %s=%d took=%s violations: %s\n",
		mode, o.seed, o.duration, len(h.Requests), acked, len(effects), c.rec.faultSummary(), invariant.FrozenCase, frozen,
		time.Since(start).Round(time.Second), invariant.Summary(invariant.Counts(vs)))
	if len(vs) == 0 {
		return true, nil
	}
	fmt.Printf("chaos: mode=%s seed=%d FAILED: %d violation(s); replay: make chaos CHAOS_ARGS='--modes %s --seed %d --keep' (the schedule is the seed's; timings vary)\n%s%s",
		mode, o.seed, len(vs), mode, o.seed, joinViolations(vs), c.trace(vs))
	return false, nil
}

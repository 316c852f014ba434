package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// phantomGroup is the downstream of the phantom row, served by the harness
// itself: a simulator that, while flooding, also lists n groups nobody
// stores (and answers their frees with success while still listing them,
// like a broken plugin); heal replaces it with a healthy, empty simulator.
type phantomGroup struct {
	mu       sync.Mutex
	inner    *groupsim.Plugin
	phantoms []plugin.Spec
	ids      map[plugin.ID]bool
}

var _ plugin.Group = (*phantomGroup)(nil)

func newPhantomGroup() (*phantomGroup, error) {
	sim, err := groupsim.New(groupsim.DefaultOptions())
	if err != nil {
		return nil, err
	}
	return &phantomGroup{inner: sim}, nil
}

// flood starts listing n phantom groups besides the running ones.
func (g *phantomGroup) flood(n int) {
	phantoms := make([]plugin.Spec, 0, n)
	ids := make(map[plugin.ID]bool, n)
	for i := range n {
		s := groupSpec(fmt.Sprintf("ph%06d", i), 0)
		phantoms = append(phantoms, s)
		ids[s.ID] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.phantoms, g.ids = phantoms, ids
}

// heal stops the flood and swaps in a new, empty simulator.
func (g *phantomGroup) heal() error {
	sim, err := groupsim.New(groupsim.DefaultOptions())
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inner, g.phantoms, g.ids = sim, nil, nil
	return nil
}

func (g *phantomGroup) state() (*groupsim.Plugin, []plugin.Spec, map[plugin.ID]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inner, g.phantoms, g.ids
}

// running counts the groups the current simulator runs.
func (g *phantomGroup) running(ctx context.Context) int {
	sim, _, _ := g.state()
	specs, err := sim.InspectGroups(ctx)
	if err != nil {
		return 0
	}
	return len(specs)
}

func (g *phantomGroup) CommitGroup(ctx context.Context, s plugin.Spec, pretend bool) (string, error) {
	sim, _, _ := g.state()
	return sim.CommitGroup(ctx, s, pretend)
}

func (g *phantomGroup) FreeGroup(ctx context.Context, id plugin.ID) error {
	sim, _, ids := g.state()
	if ids[id] {
		return nil
	}
	return sim.FreeGroup(ctx, id)
}

func (g *phantomGroup) DestroyGroup(ctx context.Context, id plugin.ID) error {
	sim, _, ids := g.state()
	if ids[id] {
		return nil
	}
	return sim.DestroyGroup(ctx, id)
}

func (g *phantomGroup) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	sim, _, _ := g.state()
	return sim.DescribeGroup(ctx, id)
}

func (g *phantomGroup) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	sim, phantoms, _ := g.state()
	specs, err := sim.InspectGroups(ctx)
	if err != nil {
		return nil, err
	}
	return append(specs, phantoms...), nil
}

const (
	// phantomCount, phantomFor: the flood of the phantom row.
	phantomCount = 200000
	phantomFor   = 8 * time.Second
	// phantomStored is the number of stored groups that must come back.
	phantomStored = 20
	// phantomBackGoal, phantomRSSGoal: the row's goals.
	phantomBackGoal = 5 * time.Second
	phantomRSSGoal  = 512 << 20
	// phantomResync is the manager's --resync-interval in this row: a
	// healthy empty downstream is noticed at the next resync.
	phantomResync = "2s"
)

// phantomFlood: a manager leads phantomStored groups over a downstream
// served by the harness; the downstream lists phantomCount groups nobody
// stores for phantomFor, then is replaced by a healthy, empty one. The row
// is the time until the stored groups run again, and the manager's peak RSS.
func (h *harness) phantomFlood(ctx context.Context) ([]row, error) {
	measure := fmt.Sprintf("phantom list of %d for %s, then a healthy empty downstream: %d stored groups back (--resync-interval %s); manager peak RSS",
		phantomCount, phantomFor, phantomStored, phantomResync)
	c, err := h.newOSCluster("ph")
	if err != nil {
		return nil, err
	}
	if _, err := c.store(phantomStored); err != nil {
		return nil, err
	}
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	pluginDir := filepath.Join(c.dir, "p")
	g, err := newPhantomGroup()
	if err != nil {
		return nil, err
	}
	srv, err := servePhantom(pluginDir, g)
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop(context.Background()) }()
	mgr, err := h.startProcess(ctx, filepath.Join(pluginDir, "group"), h.bin(binManager),
		"--name", "group", "--plugin-dir", pluginDir, "--resync-interval", phantomResync,
		"os", "--leader-file", c.leaderFile, "--store-dir", c.storeDir, "--poll-interval", leaderPoll)
	if err != nil {
		return nil, err
	}
	defer func() { _ = mgr.stop() }()
	if err := waitRunning(ctx, g, phantomStored, time.Minute); err != nil {
		return nil, fmt.Errorf("initial takeover: %w", err)
	}
	if err := sleep(ctx, quiet); err != nil {
		return nil, err
	}
	rows, err := h.unknownFrees(ctx, c.storeDir, filepath.Join(pluginDir, "group"), mgr.pid(), phantomStored, true)
	if err != nil {
		return rows, err
	}
	g.flood(phantomCount)
	if err := sleep(ctx, phantomFor); err != nil {
		return nil, err
	}
	if err := g.heal(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := waitRunning(ctx, g, phantomStored, time.Minute); err != nil {
		return append(rows, failRow(measure, err)), nil
	}
	back := time.Since(start)
	peak, err := statusBytes(mgr.pid(), "VmHWM")
	if err != nil {
		return nil, err
	}
	return append(rows, goalRow(measure, fmt.Sprintf("back in %s; peak RSS %s", ms(back), mib(peak)),
		fmt.Sprintf("<= %s; peak RSS <= %s", ms(phantomBackGoal), mib(phantomRSSGoal)),
		back <= phantomBackGoal && peak <= phantomRSSGoal, "")), nil
}

// waitRunning waits until g's current simulator runs want groups.
func waitRunning(ctx context.Context, g *phantomGroup, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for g.running(ctx) < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d groups running after %s", g.running(ctx), want, limit)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// servePhantom serves g as the downstream in pluginDir.
func servePhantom(pluginDir string, g *phantomGroup) (*plugin.Server, error) {
	if err := os.MkdirAll(pluginDir, 0o700); err != nil {
		return nil, err
	}
	return plugin.Serve(filepath.Join(pluginDir, downstream), g, plugin.DefaultServerOptions())
}

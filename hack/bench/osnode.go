package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

const (
	// downstream is the simulated group plugin's name, the manager's default
	// --proxy-for-group.
	downstream = "group-stateless"
	// nobody is a leader file content naming no manager.
	nobody = "nobody"
	// leaderPoll is the managers' --poll-interval in os mode: the longest
	// the default --lease-duration (2s) allows, so that what is measured is
	// the inotify path, not the periodic re-check.
	leaderPoll = "1s"
)

// osNode is one os-mode node: a plugin directory with a simulator (its
// events logged) and a manager. Nodes of one cluster share the leader file
// and the store directory.
type osNode struct {
	name      string // the manager's --name
	pluginDir string
	events    *tailer
	sim, mgr  *proc
	mgrStart  int64 // wall clock just before the manager was started, Unix ns
}

// osCluster is the shared part of one or more os-mode nodes.
type osCluster struct {
	h          *harness
	dir        string
	leaderFile string
	storeDir   string
	renames    []time.Duration // how long each setLeader's rename took
	handover   string          // --handover of every manager; "" the default
}

func (h *harness) newOSCluster(section string) (*osCluster, error) {
	dir, err := os.MkdirTemp(h.root, section)
	if err != nil {
		return nil, err
	}
	c := &osCluster{h: h, dir: dir, leaderFile: filepath.Join(dir, "l", "leader"), storeDir: filepath.Join(dir, "s")}
	for _, d := range []string{filepath.Dir(c.leaderFile), c.storeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setLeader replaces the leader file with name (write a temp file, rename)
// and returns the wall clock read just before the rename, in Unix ns.
func (c *osCluster) setLeader(name string) (int64, error) {
	tmp := c.leaderFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("leader file: %w", err)
	}
	t0 := time.Now().UnixNano()
	if err := os.Rename(tmp, c.leaderFile); err != nil {
		return 0, fmt.Errorf("leader file: %w", err)
	}
	c.renames = append(c.renames, time.Duration(time.Now().UnixNano()-t0))
	return t0, nil
}

// store writes n groups into global.config directly, in the original's
// format, and returns their IDs.
func (c *osCluster) store(n int) ([]string, error) {
	cfg, ids, err := benchConfig(n)
	if err != nil {
		return nil, err
	}
	data, err := sources.EncodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(c.storeDir, "global.config")
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		return nil, err
	}
	return ids, os.Rename(path+".new", path)
}

// node starts a simulator and a manager called name in a plugin directory
// of their own, and waits until both serve.
func (c *osCluster) node(ctx context.Context, name string, simArgs ...string) (*osNode, error) {
	return c.nodeWith(ctx, name, simArgs)
}

// nodeWith is node with extra flags for the manager.
func (c *osCluster) nodeWith(ctx context.Context, name string, simArgs []string, mgrArgs ...string) (*osNode, error) {
	n := &osNode{name: name, pluginDir: filepath.Join(c.dir, name)}
	if err := os.MkdirAll(n.pluginDir, 0o700); err != nil {
		return nil, err
	}
	n.events = &tailer{path: filepath.Join(c.dir, name+".events")}
	var err error
	n.sim, err = c.h.startSim(ctx, n.pluginDir, downstream, append([]string{"--events", n.events.path}, simArgs...)...)
	if err != nil {
		return nil, err
	}
	n.mgrStart = time.Now().UnixNano()
	args := append([]string{"--name", name, "--plugin-dir", n.pluginDir, "--metrics-addr", "127.0.0.1:0",
		"os", "--leader-file", c.leaderFile, "--store-dir", c.storeDir, "--poll-interval", leaderPoll}, mgrArgs...)
	if c.handover != "" {
		args = append(args, "--handover", c.handover)
	}
	n.mgr, err = c.h.startProcess(ctx, filepath.Join(n.pluginDir, name), c.h.bin(binManager), args...)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// stop stops the node's processes.
func (n *osNode) stop() {
	for _, p := range []*proc{n.mgr, n.sim} {
		if p != nil {
			_ = p.stop()
		}
	}
}

// startSim starts a simulator serving as name in pluginDir.
func (h *harness) startSim(ctx context.Context, pluginDir, name string, extra ...string) (*proc, error) {
	args := append([]string{"--plugin-dir", pluginDir, "--name", name}, extra...)
	return h.startProcess(ctx, filepath.Join(pluginDir, name), h.bin(binSim), args...)
}

// startProcess starts bin and waits until it serves socket.
func (h *harness) startProcess(ctx context.Context, socket, bin string, args ...string) (*proc, error) {
	p, err := h.procs.start(bin, args...)
	if err != nil {
		return nil, err
	}
	if err := waitSocket(ctx, socket, p); err != nil {
		_ = p.stop()
		return nil, err
	}
	return p, nil
}

// groupSpec is a valid group spec for the simulator. gen is carried in the
// instance properties, so two generations differ.
func groupSpec(id string, gen int) plugin.Spec {
	props := fmt.Sprintf(`{"Instance":{"Plugin":"instance-sim","Properties":{"Gen":%d}},`+
		`"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"tier":"bench"}}},"Allocation":{"Size":1}}`, gen)
	return plugin.Spec{ID: plugin.ID(id), Properties: json.RawMessage(props)}
}

// storedEntry is spec as the manager stores it: the whole spec under
// Properties, with the downstream's name.
func storedEntry(spec plugin.Spec) (sources.Entry, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return sources.Entry{}, err
	}
	return sources.Entry{Plugin: downstream, Properties: raw}, nil
}

// benchConfig is a config of n groups (g00000, g00001, ...) as the manager
// stores them, and their IDs.
func benchConfig(n int) (sources.Config, []string, error) {
	cfg := sources.Config{Groups: make(map[plugin.ID]sources.Entry, n)}
	ids := make([]string, 0, n)
	for i := range n {
		id := fmt.Sprintf("g%05d", i)
		e, err := storedEntry(groupSpec(id, 0))
		if err != nil {
			return sources.Config{}, nil, err
		}
		cfg.Groups[plugin.ID(id)] = e
		ids = append(ids, id)
	}
	return cfg, ids, nil
}

package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin/groupsim"
	"github.com/infrakit-manager/manager/sources"
)

// The os-mode topology of these tests, as the original README intends it
// (and as the original's two-manager measurement ran it): each node has its
// own plugin directory, its own downstream (infrakit-group-sim serving as
// "group-stateless") and its own infrakit-manager; all nodes share one
// leader file and one store directory.
//
// A manager's --name is both its socket name and its identity in the leader
// file, so two nodes cannot both be "group". Node A's manager is "group"
// (the CLI default) and node B's is "group2"; the CLI on node B therefore
// says `infrakit group --name group2 …`. Writing "group" or "group2" into
// the leader file picks the leader.
const (
	nameA      = "group"
	nameB      = "group2"
	downstream = "group-stateless"

	// resyncInterval makes a restarted downstream get its groups back fast.
	resyncInterval = "500ms"
	// eventually bounds waits for things that take milliseconds normally.
	eventually = 10 * time.Second
	tick       = 20 * time.Millisecond
)

// cattleSpec is the sample group of the protocol reference (§3.5).
const cattleSpec = `{
  "ID": "cattle",
  "Properties": {
    "Allocation": {"Size": 2},
    "Instance": {"Plugin": "instance-file", "Properties": {"Note": "Instance properties version 1.0"}},
    "Flavor": {"Plugin": "flavor-vanilla", "Properties": {"Init": ["echo hello"], "Tags": {"tier": "web", "project": "infrakit"}}}
  }
}`

// petsSpec is a second group, with logical IDs.
const petsSpec = `{"ID":"pets","Properties":{"Allocation":{"LogicalIDs":["10.0.0.1"]},"Instance":{"Plugin":"instance-file","Properties":{}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{}}}}`

// osCluster is the shared part of an os-mode setup: the leader file, the
// store directory and a directory for spec files.
type osCluster struct {
	t          *testing.T // the test (or step, see run) using the cluster now
	root       string
	leaderFile string
	storeDir   string
}

// osNode is one node: a plugin directory with its downstream and manager.
type osNode struct {
	c      *osCluster
	name   string // the manager's --name
	dir    string // plugin directory
	events string // the downstream's event log
	sim    *proc
	mgr    *proc
}

// newOSCluster creates the shared files; leader is written to the leader
// file ("" leaves it empty: nobody leads).
func newOSCluster(t *testing.T, leader string) *osCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: starts real processes")
	}
	root := shortTempDir(t)
	c := &osCluster{t: t, root: root, leaderFile: filepath.Join(root, "leader"), storeDir: filepath.Join(root, "store")}
	require.NoError(t, os.Mkdir(c.storeDir, 0o700))
	c.setLeader(leader)
	return c
}

// run runs fn as the subtest name with the cluster bound to the subtest's
// t, so that the helpers fail the step that called them (never the parent
// from the step's goroutine) and processes started in the step end with it.
// Steps run one at a time; run is not for parallel subtests.
func (c *osCluster) run(t *testing.T, name string, fn func(t *testing.T)) bool {
	parent := c.t
	defer func() { c.t = parent }()
	return t.Run(name, func(t *testing.T) {
		c.t = t
		fn(t)
	})
}

// node prepares a node (nothing started) with its own plugin directory.
func (c *osCluster) node(name string) *osNode {
	c.t.Helper()
	dir := filepath.Join(c.root, "plugins-"+name)
	require.NoError(c.t, os.Mkdir(dir, 0o700))
	return &osNode{c: c, name: name, dir: dir, events: filepath.Join(c.root, name+".events")}
}

// twoNodes starts node A ("group") and node B ("group2"), downstream first.
func (c *osCluster) twoNodes() (a, b *osNode) {
	c.t.Helper()
	a, b = c.node(nameA), c.node(nameB)
	for _, n := range []*osNode{a, b} {
		n.startSim()
		n.startManager()
	}
	return a, b
}

// setLeader replaces the leader file as an editor does: write a temp file,
// rename it over the old one.
func (c *osCluster) setLeader(name string) {
	c.t.Helper()
	writeFileAtomic(c.t, c.leaderFile, []byte(name+"\n"))
}

// writeSpec writes a spec file and returns its path.
func (c *osCluster) writeSpec(name, content string) string {
	c.t.Helper()
	path := filepath.Join(c.root, name+".json")
	require.NoError(c.t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// storePath is the shared store file.
func (c *osCluster) storePath() string { return filepath.Join(c.storeDir, "global.config") }

// stored lists the group IDs in the shared store, sorted.
func (c *osCluster) stored() []string {
	c.t.Helper()
	data, err := os.ReadFile(c.storePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(c.t, err)
	cfg, err := sources.DecodeConfig(data)
	require.NoError(c.t, err, "decode %s", c.storePath())
	var ids []string
	for id := range cfg.Groups {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	return ids
}

// managerArgs are the flags of a node's manager, --name and dirs included.
func (n *osNode) managerArgs(extra ...string) []string {
	args := []string{"--name", n.name, "--plugin-dir", n.dir, "--resync-interval", resyncInterval,
		"os", "--leader-file", n.c.leaderFile, "--store-dir", n.c.storeDir}
	return append(args, extra...)
}

// startSim starts the node's downstream, recording events, and waits for it.
func (n *osNode) startSim(extra ...string) *proc {
	n.c.t.Helper()
	n.sim = startSim(n.c.t, n.dir, downstream, append([]string{"--events", n.events}, extra...)...)
	return n.sim
}

// startManager starts the node's manager and waits until it accepts
// connections on its socket.
func (n *osNode) startManager(extra ...string) *proc {
	n.c.t.Helper()
	n.mgr = startProc(n.c.t, binary(n.c.t, "infrakit-manager"), nil, n.managerArgs(extra...)...)
	waitSocket(n.c.t, n.socket(), n.mgr)
	return n.mgr
}

// socket is the manager's Group API socket.
func (n *osNode) socket() string { return filepath.Join(n.dir, n.name) }

// cli runs `infrakit group --name <manager> args…` on this node.
func (n *osNode) cli(args ...string) (stdout, stderr string, exit int) {
	n.c.t.Helper()
	return runCLI(n.c.t, n.dir, append([]string{"group", "--name", n.name}, args...)...)
}

// running lists the groups the node's downstream runs, asking the
// downstream itself (not the manager). A downstream that does not answer
// runs nothing.
func (n *osNode) running() []string {
	n.c.t.Helper()
	out, _, exit := runCLI(n.c.t, n.dir, "group", "--name", downstream, "ls", "-q")
	if exit != 0 {
		return nil
	}
	return strings.Fields(out)
}

// runs reports whether the node's downstream runs exactly ids.
func (n *osNode) runs(ids ...string) bool {
	got := n.running()
	slices.Sort(got)
	slices.Sort(ids)
	return slices.Equal(got, ids)
}

// eventsSince returns the downstream's events of op on group at or after
// since (unix nanoseconds), in order.
func (n *osNode) eventsSince(since int64, op, group string) []groupsim.Event {
	n.c.t.Helper()
	all, err := groupsim.ReadEventFile(n.events)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(n.c.t, err)
	var out []groupsim.Event
	for _, ev := range all {
		if ev.T >= since && ev.Op == op && ev.Group == group {
			out = append(out, ev)
		}
	}
	return out
}

// firstEvent waits for the first successful op on group at or after since
// and returns its time.
func (n *osNode) firstEvent(since int64, op, group string) int64 {
	n.c.t.Helper()
	var at int64
	require.Eventually(n.c.t, func() bool {
		for _, ev := range n.eventsSince(since, op, group) {
			if ev.OK {
				at = ev.T
				return true
			}
		}
		return false
	}, eventually, tick, "node %s: no %s of %s since the mark", n.name, op, group)
	return at
}

// writeFileAtomic writes data to a temp file beside path and renames it over
// path, so readers see the old or the new content, never a mix.
func writeFileAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := fmt.Sprintf("%s.tmp-%d", path, time.Now().UnixNano())
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// ms renders a nanosecond span in milliseconds.
func ms(d int64) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// fileBytes reads a whole file.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

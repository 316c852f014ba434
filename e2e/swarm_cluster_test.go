package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// The swarm-mode topology: one real 3-manager Docker Swarm (swarmtest.Lab,
// shared by every scenario of TestSwarm) and, per Swarm node, its own plugin
// directory with a downstream (infrakit-group-sim as "group-stateless") and
// an infrakit-manager named "group" talking to that node's engine. Unlike os
// mode, every node's manager has the same --name: the engine says who leads.
//
// A swarmNode embeds the os-mode osNode for what does not depend on the
// mode (the downstream, its event log, the CLI); only the manager's command
// line differs.
const (
	labManagers = 3
	// swarmPoll and swarmResync are the managers' --poll-interval and
	// --resync-interval.
	swarmPoll   = "100ms"
	swarmResync = "1s"
	// engineTimeout is the managers' --engine-timeout (the default).
	engineTimeout = time.Second
	// electionWait bounds a failover after a leader's engine dies: the
	// engine's own election takes 10-20 s and cannot be shortened.
	electionWait = 45 * time.Second
	// handoverWait bounds a handover that Raft does at once (demotion).
	handoverWait = 15 * time.Second
	// promoteWait bounds a promotion: a promoted node becomes a manager
	// after 1-32 s.
	promoteWait = 90 * time.Second
)

// swarmCluster is one scenario's processes on the shared lab. Its cleanup
// puts the lab back to three healthy managers, whatever the scenario did.
type swarmCluster struct {
	t     *testing.T
	lab   *swarmtest.Lab
	oc    *osCluster // the root dir and t, for the embedded osNode helpers
	nodes []*swarmNode
}

// swarmNode is lab node i with its plugin directory, downstream and manager.
type swarmNode struct {
	*osNode
	i    int
	host string
}

// newSwarmCluster removes any stored config from the swarm, then starts a
// downstream and a manager on every lab node.
func newSwarmCluster(t *testing.T, lab *swarmtest.Lab) *swarmCluster {
	t.Helper()
	root := shortTempDir(t)
	c := &swarmCluster{t: t, lab: lab, oc: &osCluster{t: t, root: root}}
	t.Cleanup(c.heal) // registered first, so it runs after the processes end
	c.deleteLabel()
	for i := 1; i <= lab.N(); i++ {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i))
		require.NoError(t, os.Mkdir(dir, 0o700))
		n := &swarmNode{
			osNode: &osNode{c: c.oc, name: nameA, dir: dir, events: filepath.Join(root, fmt.Sprintf("n%d.events", i))},
			i:      i,
			host:   lab.Host(i),
		}
		n.startSim()
		n.startManager()
		c.nodes = append(c.nodes, n)
	}
	return c
}

// node returns lab node i (1-based).
func (c *swarmCluster) node(i int) *swarmNode { return c.nodes[i-1] }

// leader returns the node whose engine is the Raft leader now, once its
// manager has taken that in (it re-checks every --poll-interval and on node
// events; a loaded machine can be slower).
func (c *swarmCluster) leader() *swarmNode {
	c.t.Helper()
	n := c.node(c.lab.Leader(c.t))
	mgr := groupClient(c.t, n.socket())
	require.Eventually(c.t, func() bool {
		ok, err := mgr.IsLeader(swarmtest.Context(c.t))
		return err == nil && ok
	}, eventually, tick, "node %d's engine leads but its manager does not", n.i)
	return n
}

// others returns every node but n.
func (c *swarmCluster) others(n *swarmNode) []*swarmNode {
	var out []*swarmNode
	for _, o := range c.nodes {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

// managerArgs are the flags of the node's swarm-mode manager. It replaces
// osNode.managerArgs (os mode).
func (n *swarmNode) managerArgs(extra ...string) []string {
	args := []string{"--name", n.name, "--plugin-dir", n.dir, "--resync-interval", swarmResync,
		"swarm", "--host", n.host, "--poll-interval", swarmPoll}
	return append(args, extra...)
}

// startManager starts the node's manager and waits until it serves. The
// manager checks leadership before it listens, so from then on its answers
// follow the engine.
func (n *swarmNode) startManager(extra ...string) *proc {
	t := n.c.t
	t.Helper()
	n.mgr = startProc(t, binary(t, "infrakit-manager"), nil, n.managerArgs(extra...)...)
	waitSocket(t, n.socket(), n.mgr)
	return n.mgr
}

// committedSince waits until one of nodes has a successful commit event of
// every group since the mark, and returns that node and the time of its
// last such commit (the moment the groups were all running there).
func committedSince(t *testing.T, nodes []*swarmNode, since int64, within time.Duration, groups ...string) (*swarmNode, int64) {
	t.Helper()
	var (
		found *swarmNode
		at    int64
	)
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if last, ok := n.allEvents(since, "commit", groups...); ok {
				found, at = n, last
				return true
			}
		}
		return false
	}, within, tick, "no node committed %v", groups)
	return found, at
}

// allEvents returns the latest of the first successful op events of every
// group since the mark, and whether each group has one.
func (n *swarmNode) allEvents(since int64, op string, groups ...string) (int64, bool) {
	var last int64
	for _, g := range groups {
		first := int64(-1)
		for _, ev := range n.eventsSince(since, op, g) {
			if ev.OK {
				first = ev.T
				break
			}
		}
		if first < 0 {
			return 0, false
		}
		last = max(last, first)
	}
	return last, true
}

// converged waits until only leader's downstream runs groups, exactly them,
// and the other downstreams run nothing.
func (c *swarmCluster) converged(leader *swarmNode, within time.Duration, groups ...string) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		for _, n := range c.nodes {
			want := []string{}
			if n == leader {
				want = groups
			}
			if !n.runs(want...) {
				return false
			}
		}
		return true
	}, within, 50*time.Millisecond, "only node %d must run %v: %s", leader.i, groups, c.runningReport())
}

// runningReport says what every downstream runs, for failure messages.
func (c *swarmCluster) runningReport() string {
	s := ""
	for _, n := range c.nodes {
		s += fmt.Sprintf("n%d=%v ", n.i, n.running())
	}
	return s
}

// commit commits the spec file through the node's manager and requires
// success with the given details.
func (n *swarmNode) commit(path, id, details string) {
	t := n.c.t
	t.Helper()
	out, errOut, exit := n.cli("commit", path)
	require.Equal(t, 0, exit, "commit %s on node %d: %s", id, n.i, errOut)
	require.Equal(t, fmt.Sprintf("Committed %s: %s\n", id, details), out)
}

// refuses requires that a commit through the node's manager is refused
// with not-a-leader.
func (n *swarmNode) refuses(path string) {
	t := n.c.t
	t.Helper()
	out, errOut, exit := n.cli("commit", path)
	require.Equal(t, 1, exit, "node %d accepted a commit: %s", n.i, out)
	require.Contains(t, errOut, "not-a-leader")
}

// lists requires that `ls` through the node's manager shows exactly ids.
func (n *swarmNode) lists(ids ...string) {
	t := n.c.t
	t.Helper()
	out, errOut, exit := n.cli("ls", "-q")
	require.Equal(t, 0, exit, "ls on node %d: %s", n.i, errOut)
	got := nonEmptyLines(out)
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	require.Equal(t, want, got, "ls on node %d", n.i)
}

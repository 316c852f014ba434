package e2e

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

const (
	// flipCount leader-file flips are made, one every flipPace: fast
	// enough for 1,000 in a few seconds, slow enough that the managers see
	// most of them (a flip is a rename; each one is a transition).
	flipCount = 1000
	flipPace  = 3 * time.Millisecond
	// flipBudget is the brief's bound for the flips themselves.
	flipBudget = 60 * time.Second
	// flipConverge bounds the settling after the storm: in-flight calls,
	// backoffs and one resync.
	flipConverge = 30 * time.Second
	// goroutineSlack is how many goroutines more than the settled baseline
	// the settled state after the storm may have (timer and connection
	// goroutines that are on their way out). A leak per flip would be
	// hundreds.
	goroutineSlack = 5
)

// flipGroups are stored before the storm; only the final leader runs them.
var flipGroups = []string{"f1", "f2", "f3"}

// flipLeader rewrites the leader file n times (temp file + rename),
// alternating group2 and group, and returns how long that took.
func flipLeader(t *testing.T, c *osCluster, n int) time.Duration {
	t.Helper()
	names := [2]string{nameB, nameA}
	tick := time.NewTicker(flipPace)
	defer tick.Stop()
	start := time.Now()
	for i := range n {
		<-tick.C
		c.setLeader(names[i%2])
	}
	took := time.Since(start)
	require.LessOrEqual(t, took, flipBudget, "%d flips took longer than the brief allows", n)
	return took
}

// converged reports whether leader's downstream runs exactly ids and
// follower's runs nothing.
func converged(ctx context.Context, leader, follower *osNode, ids []string) bool {
	return leader.simRuns(ctx, ids...) && follower.simRuns(ctx)
}

// requireConverged waits for convergence, then checks that it holds for
// longer than a resync (no late commit or free undoes it).
func requireConverged(t *testing.T, leader, follower *osNode, ids []string) {
	t.Helper()
	ctx := t.Context()
	require.Eventually(t, func() bool { return converged(ctx, leader, follower, ids) }, flipConverge, 50*time.Millisecond,
		"not converged: %s should run %v, %s nothing", leader.name, ids, follower.name)
	require.Never(t, func() bool { return !converged(ctx, leader, follower, ids) }, 1500*time.Millisecond, 100*time.Millisecond,
		"convergence did not hold")
}

// countEvents counts the node's successful downstream events of op since.
func countEvents(t *testing.T, n *osNode, since int64, op string) int {
	t.Helper()
	count := 0
	for _, id := range flipGroups {
		for _, ev := range n.eventsSince(since, op, id) {
			if ev.OK {
				count++
			}
		}
	}
	return count
}

// TestFaultLeaderFlips: two manager processes (group and group2, each with
// its own plugin dir and downstream, sharing the leader file and the store)
// go through 1,000 leader-file flips; then the file settles on group2. The
// end state is converged: the stored groups run on group2's downstream and
// nothing runs on group's; the store is untouched and both managers stop
// cleanly.
func TestFaultLeaderFlips(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups(flipGroups...)
	a, b := c.twoNodes()
	requireConverged(t, a, b, stored)
	storeBytes := fileBytes(t, c.storePath())

	mark := time.Now().UnixNano()
	took := flipLeader(t, c, flipCount)
	c.setLeader(nameB)
	requireConverged(t, b, a, stored)

	t.Logf("flips=%d in %s", flipCount, took.Round(time.Millisecond))
	for _, n := range []*osNode{a, b} {
		t.Logf("%s: leadership changes handled=%d, downstream commits=%d frees=%d", n.name,
			strings.Count(n.mgr.Stderr(), "leadership changed"), countEvents(t, n, mark, "commit"), countEvents(t, n, mark, "free"))
	}
	require.Equal(t, storeBytes, fileBytes(t, c.storePath()), "leadership flips changed the store")
	for _, n := range []*osNode{a, b} {
		require.Equal(t, 0, n.mgr.Stop(), "manager %s exit code", n.name)
	}
}

// countingLeadership counts the pokes a manager gets from its leader file.
type countingLeadership struct {
	sources.Leadership
	changes atomic.Int64
}

var _ sources.Leadership = (*countingLeadership)(nil)

func (c *countingLeadership) Watch(ctx context.Context, poke func()) error {
	return c.Leadership.Watch(ctx, func() { c.changes.Add(1); poke() })
}

// inProcManager is a controller.Manager run in the test process, wired as
// the os mode wires it, with its own sink so that the test can drop its idle
// keep-alive connections before counting goroutines.
type inProcManager struct {
	m      *controller.Manager
	down   *sink.Downstream
	leader *countingLeadership
}

func startInProcManager(t *testing.T, c *osCluster, n *osNode) *inProcManager {
	t.Helper()
	lo := file.DefaultLeadershipOptions()
	lo.Path, lo.Name = c.leaderFile, n.name
	l, err := file.NewLeadership(lo)
	require.NoError(t, err)
	so := file.DefaultStoreOptions()
	so.Dir = c.storeDir
	s, err := file.NewStore(so)
	require.NoError(t, err)
	d, err := sink.New(sink.Options{Dir: plugin.Dir{Path: n.dir}, Name: downstream, CallTimeout: 2 * time.Second})
	require.NoError(t, err)
	p := &inProcManager{down: d, leader: &countingLeadership{Leadership: l}}
	o := controller.DefaultOptions()
	o.Handover = controller.HandoverFast
	o.Name, o.PluginDir, o.ProxyFor = n.name, n.dir, downstream
	o.Leadership, o.Store, o.Downstream = p.leader, s, d
	o.ResyncInterval, o.MaxBackoff = 500*time.Millisecond, time.Second
	p.m, err = controller.New(o)
	require.NoError(t, err)
	require.NoError(t, p.m.Start(t.Context()))
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop stops the manager (idempotent) within stopTimeout.
func (p *inProcManager) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	require.NoError(t, p.m.Stop(ctx))
	p.down.Close()
}

// goroutines counts this process's goroutines after the managers' idle
// downstream connections are closed (their reader and writer goroutines are
// pool state, not work).
func goroutines(ms ...*inProcManager) int {
	for _, m := range ms {
		m.down.Close()
	}
	return runtime.NumGoroutine()
}

// TestFaultLeaderFlipsInProcess is the flip storm again with both managers
// in the test process (controller.New + FileLeadership + FileStore + sink,
// real sockets, downstream processes), which makes goroutine leaks
// measurable: the settled count after 1,000 flips must be back to the
// settled count before them, and Stop must return to the count before the
// managers started. It also runs the controller under the race detector.
func TestFaultLeaderFlipsInProcess(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups(flipGroups...)
	a, b := c.node(nameA), c.node(nameB)
	a.startSim("--log", "2")
	b.startSim("--log", "2")
	initial := runtime.NumGoroutine()

	ma, mb := startInProcManager(t, c, a), startInProcManager(t, c, b)
	requireConverged(t, a, b, stored)
	before := goroutines(ma, mb)

	took := flipLeader(t, c, flipCount)
	c.setLeader(nameB)
	requireConverged(t, b, a, stored)
	after := 0
	require.Eventually(t, func() bool {
		after = goroutines(ma, mb)
		return after <= before+goroutineSlack
	}, flipConverge, 50*time.Millisecond, "goroutines before the flips %d, after %d", before, after)
	t.Logf("flips=%d goroutines before=%d after=%d (flips took %s; pokes seen: %s=%d %s=%d)", flipCount,
		before, after, took.Round(time.Millisecond), a.name, ma.leader.changes.Load(), b.name, mb.leader.changes.Load())

	ma.stop(t)
	mb.stop(t)
	stopped := 0
	require.Eventually(t, func() bool {
		stopped = runtime.NumGoroutine()
		return stopped <= initial+goroutineSlack
	}, flipConverge, 50*time.Millisecond, "goroutines before start %d, after stop %d", initial, stopped)
	t.Logf("goroutines before start=%d after stop=%d", initial, stopped)
}

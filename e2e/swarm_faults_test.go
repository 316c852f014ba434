package e2e

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// hangBound is far below the 20 s a follower's engine hangs and far above
// the managers' 1 s engine timeout: an answer later than this means a call
// was not bounded.
const hangBound = 8 * time.Second

// timedCLI runs the CLI on the node's manager and returns how long it took.
func (n *swarmNode) timedCLI(args ...string) (stdout, stderr string, exit int, took time.Duration) {
	n.c.t.Helper()
	start := time.Now()
	stdout, stderr, exit = n.cli(args...)
	return stdout, stderr, exit, time.Since(start)
}

// A follower whose engine hangs (SIGSTOP): its manager keeps answering. ls
// reads the store through the hung engine, so it fails, but within about
// the engine timeout instead of hanging; plugin ls and describe (answered
// by the downstream) work; commits are refused. The leader is unaffected.
func swarmFrozenFollower(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	cattle := c.oc.writeSpec("cattle", cattleSpec)
	pets := c.oc.writeSpec("pets", petsSpec)
	leader := c.leader()
	frozen := c.others(leader)[0]
	leader.commit(cattle, "cattle", "Managing 2 instances")
	c.converged(leader, eventually, "cattle")

	lab.Signal(t, frozen.i, "STOP") // the cleanup resumes it if a step fails

	_, errOut, exit, took := frozen.timedCLI("ls")
	require.Equal(t, 1, exit)
	require.Contains(t, errOut, "inspect swarm at "+frozen.host)
	require.Less(t, took, hangBound, "ls through a hung engine must fail within about the engine timeout")
	t.Logf("ls through the frozen engine of node %d failed after %s: %s", frozen.i, took.Round(time.Millisecond), strings.TrimSpace(errOut))

	out, errOut, exit := runCLI(t, frozen.dir, "plugin", "ls", "-q")
	require.Equal(t, 0, exit, errOut)
	require.Equal(t, []string{nameA, downstream}, firstColumn(out))

	_, errOut, exit, took = frozen.timedCLI("describe", "cattle")
	require.Equal(t, 1, exit)
	require.Contains(t, errOut, "not being watched", "a follower's downstream runs nothing")
	require.Less(t, took, hangBound)

	start := time.Now()
	frozen.refuses(pets)
	require.Less(t, time.Since(start), hangBound)

	leader.commit(pets, "pets", "Managing 1 instances")
	leader.lists("cattle", "pets")
	c.converged(leader, eventually, "cattle", "pets")
	require.False(t, frozen.mgr.exited(), "the manager beside the hung engine must keep running")

	lab.Signal(t, frozen.i, "CONT")
	c.lab.WaitAll(t)
	require.Eventually(t, func() bool {
		out, _, exit := frozen.cli("ls", "-q")
		return exit == 0 && strings.Join(sortedFields(out), " ") == "cattle pets"
	}, eventually, 100*time.Millisecond, "ls on node %d after the engine resumed", frozen.i)
	c.converged(c.leader(), eventually, "cattle", "pets")
}

// --once in swarm mode, beside the node's stopped daemon manager: on the
// leader's node it commits every stored group to a downstream that lost
// them (restarted) and exits 0; on a follower's node it frees what runs
// there and exits 0. It never writes the store.
func swarmOnce(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	cattle := c.oc.writeSpec("cattle", cattleSpec)
	leader := c.leader()
	leader.commit(cattle, "cattle", "Managing 2 instances")
	leader.commit(c.oc.writeSpec("pets", petsSpec), "pets", "Managing 1 instances")
	c.converged(leader, eventually, "cattle", "pets")

	require.Equal(t, 0, leader.mgr.Stop(), "daemon manager exit code")
	leader.sim.Kill()
	leader.startSim()
	require.True(t, leader.runs(), "a restarted downstream runs nothing")
	once := func(n *swarmNode, extra ...string) (string, string, int) {
		t.Helper()
		return runManagerOnce(t, append(extra, n.managerArgs()...)...)
	}

	mark := time.Now().UnixNano()
	out, errOut, exit := once(leader, "--once", "--dry-run")
	require.Equal(t, 0, exit, errOut)
	require.Regexp(t, `(?m)^role: leader$`, out)
	require.Regexp(t, onceLine("commit", "cattle", "would run"), out)
	require.Contains(t, out, "groups: 2, committed: 0, freed: 0, failed: 0, planned: 2\n")
	require.True(t, leader.runs(), "a dry run acts on nothing")
	require.Empty(t, leader.eventsSince(mark, "commit", "cattle"))

	out, errOut, exit = once(leader, "--once")
	require.Equal(t, 0, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Regexp(t, `(?m)^role: leader$`, out)
	require.Regexp(t, onceLine("commit", "cattle", "ok: Managing 2 instances"), out)
	require.Regexp(t, onceLine("commit", "pets", "ok: Managing 1 instances"), out)
	require.Contains(t, out, "groups: 2, committed: 2, freed: 0, failed: 0, planned: 0\n")
	require.True(t, leader.runs("cattle", "pets"), "runs %v", leader.running())

	follower := c.others(leader)[0]
	require.Equal(t, 0, follower.mgr.Stop(), "daemon manager exit code")
	_, errOut, exit = runCLI(t, follower.dir, "group", "--name", downstream, "commit", cattle)
	require.Equal(t, 0, exit, "commit straight to the follower's downstream: %s", errOut)
	require.True(t, follower.runs("cattle"))

	out, errOut, exit = once(follower, "--once")
	require.Equal(t, 0, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Regexp(t, `(?m)^role: follower$`, out)
	require.Regexp(t, onceLine("free", "cattle", "ok"), out)
	// Every stored group is listed, with what a follower does about it.
	require.Regexp(t, `(?m)^noop\s+pets\s+not leader, not running`, out)
	require.Contains(t, out, "groups: 2, committed: 0, freed: 1, failed: 0, planned: 0\n")
	require.True(t, follower.runs(), "runs %v", follower.running())

	require.Equal(t, []string{"cattle", "pets"}, c.labelGroups(follower.i), "--once never writes the store")
}

// The swarm side of the original's issue 6, with the managers running. A
// config written into the label by someone else is not lost by a later
// commit (the commit re-reads the label), and the leader converges to it. A
// label that does not decode makes commit and ls fail with a clear error,
// is never overwritten, and leaves the managers running and the leader's
// downstream as it was; once the label is repaired, everything works again.
func swarmLabelFaults(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	cattle := c.oc.writeSpec("cattle", cattleSpec)
	leader := c.leader()
	follower := c.others(leader)[0]
	leader.commit(cattle, "cattle", "Managing 2 instances")
	c.converged(leader, eventually, "cattle")

	// another writer replaces the config: "other" instead of "cattle"
	c.setConfig(swarmSpec("other"))
	c.converged(leader, eventually, "other")
	leader.commit(c.oc.writeSpec("pets", petsSpec), "pets", "Managing 1 instances")
	require.Equal(t, []string{"other", "pets"}, c.labelGroups(follower.i), "the other writer's group is kept")
	c.converged(leader, eventually, "other", "pets")

	for _, bad := range []struct{ name, value, want string }{
		{"not base64", "this is not base64 !", "not standard base64"},
		{"not zlib", base64.StdEncoding.EncodeToString([]byte("plain text")), "not zlib"},
		{"not JSON", zlibBase64(t, "{not json"), "label JSON"},
	} {
		c.setLabel(bad.value, false)
		out, errOut, exit := leader.cli("commit", cattle)
		require.Equal(t, 1, exit, "%s: commit accepted: %s", bad.name, out)
		require.Contains(t, errOut, "cannot be decoded", bad.name)
		require.Contains(t, errOut, bad.want, bad.name)
		for _, n := range []*swarmNode{leader, follower} {
			_, errOut, exit = n.cli("ls")
			require.Equal(t, 1, exit, "%s: ls on node %d", bad.name, n.i)
			require.Contains(t, errOut, "cannot be decoded", "%s: ls on node %d", bad.name, n.i)
		}
		v, ok := c.rawLabel(follower.i)
		require.True(t, ok)
		require.Equal(t, bad.value, v, "%s: the label must stay byte-identical", bad.name)
		t.Logf("%s: commit refused with: %s", bad.name, strings.TrimSpace(errOut))
	}
	// two resyncs with an undecodable label: the leader acts on no guess
	require.Never(t, func() bool { return !leader.runs("other", "pets") }, 2500*time.Millisecond, 100*time.Millisecond,
		"the leader's downstream changed while the store could not be read: %v", leader.running())
	for _, n := range c.nodes {
		require.False(t, n.mgr.exited(), "node %d's manager exited", n.i)
	}

	// an operator repairs the label
	c.setConfig(swarmSpec("other"), petsSpec)
	leader.commit(cattle, "cattle", "Managing 2 instances")
	require.Equal(t, []string{"cattle", "other", "pets"}, c.labelGroups(follower.i))
	follower.lists("cattle", "other", "pets")
	c.converged(leader, eventually, "cattle", "other", "pets")
	require.Eventually(t, func() bool { return strings.Contains(leader.mgr.Stderr(), "sync recovered") },
		eventually, tick, "the leader's sync must recover")
}

// zlibBase64 encodes s as a label would be, without being a config.
func zlibBase64(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// sortedFields splits s on blanks and sorts the words.
func sortedFields(s string) []string {
	f := strings.Fields(s)
	slices.Sort(f)
	return f
}

// firstColumn returns the first word of every non-blank line, sorted.
func firstColumn(s string) []string {
	var out []string
	for _, l := range nonEmptyLines(s) {
		out = append(out, strings.Fields(l)[0])
	}
	slices.Sort(out)
	return out
}

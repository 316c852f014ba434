package e2e

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// demoteRounds is how many times swarmDemoteTheLeader hands leadership
// over; demoteGoal is the handover time we aim for (logged, not asserted):
// the fenced handover waits for the old leader's lease (swarm keeps no
// record a demoted node could still write), so about the lease.
const (
	demoteRounds = 5
	swarmLease   = 2 * time.Second
	demoteGoal   = swarmLease + 500*time.Millisecond
)

// handoverFigures compares the old leader's frees with the new leader's
// commits of groups since the mark: overlap is the longest time a group
// ran on both downstreams (the new one committed before the old one
// freed), gap the shortest time it ran on neither.
func handoverFigures(t *testing.T, old, next *swarmNode, since int64, groups ...string) (overlap, gap time.Duration) {
	t.Helper()
	gap = time.Duration(1<<63 - 1)
	for _, g := range groups {
		freed, ok := old.allEvents(since, "free", g)
		require.True(t, ok, "node %d never freed %s", old.i, g)
		committed, ok := next.allEvents(since, "commit", g)
		require.True(t, ok, "node %d never committed %s", next.i, g)
		if d := time.Duration(freed - committed); d > 0 {
			overlap = max(overlap, d)
		} else {
			gap = min(gap, -d)
		}
	}
	if overlap > 0 {
		gap = 0
	}
	return overlap, gap
}

// Demoting the leader's node (docker node demote) makes Raft hand
// leadership to another manager at once: the new leader's manager commits
// every stored group and the old one, whose node is now a worker, frees
// them. Each round promotes the old node back and waits until the swarm is
// healthy before the next (quick churn can crash a 20.10 engine). The time
// from the demote command's return to the new leader's downstream having
// committed every group is logged per round, with the median; it is a
// measurement, not an assertion (the goal is under 500 ms).
func swarmDemoteTheLeader(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	groups := []string{"cattle", "pets"}
	pets := c.oc.writeSpec("pets", petsSpec)
	leader := c.leader()
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	leader.commit(pets, "pets", "Managing 1 instances")
	c.converged(leader, eventually, groups...)

	var toCommit, gaps []time.Duration
	overlaps := 0
	for round := 1; round <= demoteRounds; round++ {
		old := c.leader()
		before := time.Now().UnixNano()
		lab.Demote(t, old.i)
		returned := time.Now().UnixNano()

		next, committed := committedSince(t, c.others(old), before, handoverWait, groups...)
		var freed int64
		require.Eventually(t, func() bool {
			var ok bool
			freed, ok = old.allEvents(before, "free", groups...)
			return ok
		}, handoverWait, tick, "round %d: the demoted node %d did not free %v", round, old.i, groups)
		c.converged(next, eventually, groups...)
		old.refuses(pets) // a worker's manager does not lead
		require.Equal(t, next.i, lab.Leader(t), "round %d: the downstream that took over is not the leader's", round)

		d := time.Duration(committed - returned)
		toCommit = append(toCommit, d)
		overlap, gap := handoverFigures(t, old, next, before, groups...)
		t.Logf("handover: swarm demote round %d: overlap %s, gap %s (node %d freed, node %d committed)",
			round, signedMS(overlap), signedMS(gap), old.i, next.i)
		if overlap > 0 {
			overlaps++
		} else {
			gaps = append(gaps, gap)
		}
		t.Logf("round %d: demoted node %d (the command took %s); node %d committed %v %s after it returned; node %d freed them %s after it returned",
			round, old.i, ms(returned-before), next.i, groups, signedMS(d), old.i, signedMS(time.Duration(freed-returned)))
		if d > demoteGoal {
			for _, n := range []*swarmNode{old, next} {
				t.Logf("round %d over the goal: node %d's manager on leadership:\n%s", round, n.i, leadershipLog(n.mgr, 6))
			}
		}

		promoted := time.Now()
		lab.Promote(t, old.i) // waits until all three are healthy managers
		t.Logf("round %d: node %d was a healthy manager again %s after the promotion", round, old.i, time.Since(promoted).Round(time.Millisecond))
		old.refuses(pets) // a manager again, a follower
		c.converged(c.leader(), eventually, groups...)
	}
	t.Logf("demote-to-commit: median=%s all=%s (goal < %s; not asserted)",
		signedMS(median(toCommit)), msList(toCommit), demoteGoal)
	t.Logf("handover: swarm demote: overlap in %d of %d rounds; gap %s (goal <= lease + 0.5 s = %s; not asserted)",
		overlaps, demoteRounds, percentiles(gaps), demoteGoal)
	require.Zero(t, overlaps, "a fenced swarm handover overlapped")

	// the manager of the last leader still takes commits after the churn
	last := c.leader()
	last.commit(c.oc.writeSpec("ducks", swarmSpec("ducks")), "ducks", "Managing 1 instances")
	c.converged(last, eventually, append(groups, "ducks")...)
}

// SIGKILL of the leader's engine: the manager beside the dead engine cannot
// ask it, reports not leader and frees its downstream's groups (the
// downstream is alive); after the swarm's own election (10-20 s, not
// tunable on 20.10) the new leader's manager commits every group. The
// engine is then restarted and rejoins as a follower.
func swarmKillTheLeadersEngine(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	groups := []string{"cattle", "pets"}
	pets := c.oc.writeSpec("pets", petsSpec)
	first := c.leader()
	first.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	first.commit(pets, "pets", "Managing 1 instances")
	c.converged(first, eventually, groups...)

	var gaps []time.Duration
	for round := 1; round <= killRounds; round++ {
		old := c.leader()
		known := strings.Count(old.mgr.Stderr(), "leadership known again")
		killed := time.Now().UnixNano()
		lab.Stop(t, old.i, "KILL")
		var freed int64
		require.Eventually(t, func() bool {
			var ok bool
			freed, ok = old.allEvents(killed, "free", groups...)
			return ok
		}, handoverWait, tick, "round %d: the manager beside the dead engine did not free %v", round, groups)
		old.refuses(pets)
		require.Contains(t, old.mgr.Stderr(), "leadership unknown", "the manager must say why it does not lead")

		next, committed := committedSince(t, c.others(old), killed, electionWait, groups...)
		c.converged(next, eventually, groups...)
		overlap, gap := handoverFigures(t, old, next, killed, groups...)
		gaps = append(gaps, gap)
		t.Logf("SIGKILL of node %d's engine: its manager freed %v after %s; node %d's manager committed them after %s (the engine's election)",
			old.i, groups, ms(freed-killed), next.i, ms(committed-killed))
		t.Logf("handover: swarm engine SIGKILL round %d: overlap %s, gap %s", round, signedMS(overlap), signedMS(gap))
		require.Zero(t, overlap, "round %d: the new leader committed before the old one freed", round)
		require.Equal(t, []string{"cattle", "pets"}, c.labelGroups(next.i), "the store survives the leader's death")

		lab.Start(t, old.i)
		lab.WaitAll(t)
		require.Eventually(t, func() bool {
			return strings.Count(old.mgr.Stderr(), "leadership known again") > known
		}, eventually, tick, "the manager beside the restarted engine must reach it again")
		old.lists(groups...)
		old.refuses(pets)
		c.converged(c.leader(), eventually, groups...)
	}
	t.Logf("handover: swarm engine SIGKILL: overlap in 0 of %d rounds; gap %s (the engine's own election dominates)",
		killRounds, percentiles(gaps))
}

// killRounds is how many times swarmKillTheLeadersEngine kills the
// leader's engine.
const killRounds = 3

// leadershipLog returns the last n lines of a manager's log that are about
// leadership, to explain a slow handover.
func leadershipLog(p *proc, n int) string {
	var lines []string
	for _, l := range strings.Split(p.Stderr(), "\n") {
		if strings.Contains(l, "leader") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// median of ds (the mean of the middle two for an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// signedMS renders a duration in milliseconds, negative when the event
// came before the reference point.
func signedMS(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }

// msList renders durations as [a b c] in milliseconds.
func msList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = signedMS(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// frozenSwarmRounds is how many times swarmFrozenLeaderManager freezes the
// leading manager.
const frozenSwarmRounds = 3

// The leading manager process is frozen (SIGSTOP), its node demoted; the new
// leader's manager takes over; 2.5 s later the old manager resumes. Its
// stale confirmation is far older than one renewal, so it re-checks (the
// engine says: a worker now) before anything else it does, steps down and
// frees: it never commits on the leadership it had when it froze.
func swarmFrozenLeaderManager(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	groups := []string{"cattle", "pets"}
	leader := c.leader()
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	leader.commit(c.oc.writeSpec("pets", petsSpec), "pets", "Managing 1 instances")
	c.converged(leader, eventually, groups...)
	for round := 1; round <= frozenSwarmRounds; round++ {
		old := c.leader()
		old.mgr.Signal(syscall.SIGSTOP)
		before := time.Now().UnixNano()
		lab.Demote(t, old.i)
		promoted := false
		t.Cleanup(func() { // a failed round leaves the lab as it found it
			if !promoted {
				old.mgr.Signal(syscall.SIGCONT)
				lab.Promote(t, old.i)
			}
		})
		// Demoting the Raft leader usually hands leadership over at once, but
		// swarmkit falls back to an election now and then (10-30 s here):
		// bounded by electionWait, the figure is logged, not asserted.
		next, committed := committedSince(t, c.others(old), before, electionWait, groups...)
		time.Sleep(2500 * time.Millisecond) //nolint:forbidigo // the scenario: frozen well past the takeover
		resumed := time.Now().UnixNano()
		old.mgr.Signal(syscall.SIGCONT)
		require.Eventually(t, func() bool { return old.simRuns(t.Context()) }, eventually, tick,
			"round %d: the resumed manager of node %d never freed", round, old.i)
		commits, frees := old.opsSince(resumed, "commit", false), old.opsSince(resumed, "free", true)
		t.Logf("frozen swarm leader round %d: node %d frozen and demoted; node %d committed %s after the demote; resumed old manager made commits=%d frees=%d",
			round, old.i, next.i, ms(committed-before), commits, frees)
		require.Zero(t, commits, "round %d: the resumed manager committed on stale leadership", round)
		lab.Promote(t, old.i)
		promoted = true
		c.converged(c.leader(), eventually, groups...)
	}
}

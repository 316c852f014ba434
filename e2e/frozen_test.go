package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// frozenRounds is how many times each frozen-leader scenario runs.
const frozenRounds = 20

// opsSince counts the node's downstream calls of op (any group) at or after
// since; ok counts only the successful ones.
func (n *osNode) opsSince(since int64, op string, ok bool) int {
	n.c.t.Helper()
	all, err := groupsim.ReadEventFile(n.events)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	require.NoError(n.c.t, err)
	count := 0
	for _, ev := range all {
		if ev.T >= since && ev.Op == op && (ev.OK || !ok) {
			count++
		}
	}
	return count
}

// TestFrozenLeaderNeverActsOnStaleLeadership: two managers share the leader
// file and the store, each with its own downstream. The leader is frozen
// (SIGSTOP), the leader file is renamed to name the other, which takes over
// and commits a new group; 2.5 s later the old leader resumes (SIGCONT).
// Timers, the work queue and requests all wake together; none may commit
// on the resumed process's stale leadership: it re-checks first, steps
// down, and frees. In the second half the old leader is frozen while a
// commit to it is in flight.
func TestFrozenLeaderNeverActsOnStaleLeadership(t *testing.T) {
	c := newOSCluster(t, nameA)
	a, b := c.node(nameA), c.node(nameB)
	for _, n := range []*osNode{a, b} {
		n.startSim("--latency", "20ms")
		n.startManager("--resync-interval", "1s")
	}
	nodes := []*osNode{a, b}
	leader := 0
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // every call to a manager has a deadline
	defer cancel()
	total := 0
	for round := 1; round <= 2*frozenRounds; round++ {
		inFlight := round > frozenRounds
		old, next := nodes[leader], nodes[1-leader]
		id := fmt.Sprintf("frozen-%02d", round)

		var pending chan error
		if inFlight {
			pending = make(chan error, 1)
			go func() {
				_, err := groupClient(t, old.socket()).CommitGroup(ctx, faultSpec("inflight-"+id), false)
				pending <- err
			}()
			time.Sleep(time.Duration(round%4) * 10 * time.Millisecond) //nolint:forbidigo // freeze at different stages of the request
		}
		old.mgr.Signal(syscall.SIGSTOP)
		c.setLeader(next.name)
		nc := groupClient(t, next.socket())
		// The new leader takes over and commits. A leader frozen in the
		// middle of a store write holds the store's lock: then the new
		// leader's writes fail with a store timeout until it resumes.
		var commitErr error
		deadline := time.Now().Add(eventually)
		for time.Now().Before(deadline) {
			if _, commitErr = nc.CommitGroup(ctx, faultSpec(id), false); commitErr == nil {
				break
			}
			if strings.Contains(commitErr.Error(), "store") {
				break
			}
			time.Sleep(tick) //nolint:forbidigo // polling for the takeover
		}
		if commitErr != nil {
			require.Contains(t, commitErr.Error(), "store", "round %d: the new leader never committed", round)
			t.Logf("round %d: the old leader froze holding the store lock; the new leader's write: %v", round, commitErr)
		}
		time.Sleep(2500 * time.Millisecond) //nolint:forbidigo // the scenario: frozen well past the takeover
		resumed := time.Now().UnixNano()
		old.mgr.Signal(syscall.SIGCONT)
		require.Eventually(t, func() bool { return old.simRuns(ctx) }, eventually, tick, "round %d: the old leader never freed", round)
		answer := "none"
		if inFlight {
			select {
			case err := <-pending:
				answer = fmt.Sprint(err)
			case <-time.After(eventually):
				t.Fatalf("round %d: the in-flight commit was never answered", round)
			}
		}
		commits, frees := old.opsSince(resumed, "commit", false), old.opsSince(resumed, "free", true)
		total += commits
		t.Logf("round %d (%s frozen%s): resumed old leader made commits=%d frees=%d; in-flight answer: %s",
			round, old.name, map[bool]string{true: " with a commit in flight", false: ""}[inFlight], commits, frees, answer)
		require.Zero(t, commits, "round %d: the resumed old leader committed on stale leadership", round)
		leader = 1 - leader
	}
	t.Logf("frozen leader: %d rounds, commits by resumed old leaders: %d", 2*frozenRounds, total)
}

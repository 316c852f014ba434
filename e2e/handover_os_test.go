package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// osLease is os mode's default --lease-duration, which these tests keep.
const osLease = 2 * time.Second

// handoverFlips is how many flips TestHandoverOSFlips makes per mode:
// $HANDOVER_FLIPS, else 100.
func handoverFlips(t *testing.T) int {
	t.Helper()
	if s := os.Getenv("HANDOVER_FLIPS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "HANDOVER_FLIPS")
		return n
	}
	return 100
}

// TestHandoverOSFlips flips the leader file between two live managers, each
// with its own downstream simulator, and reads both simulators' event logs:
// with --handover fenced the old leader's free completes before the new
// leader's commit in every flip (overlap 0); with --handover fast the two
// may overlap (reported for comparison, not asserted).
func TestHandoverOSFlips(t *testing.T) {
	n := handoverFlips(t)
	for _, mode := range []string{"fenced", "fast"} {
		t.Run(mode, func(t *testing.T) {
			c := newOSCluster(t, nameA)
			a, b := c.node(nameA), c.node(nameB)
			for _, node := range []*osNode{a, b} {
				node.startSim()
				node.startManager("--handover", mode)
			}
			spec := c.writeSpec("cattle", cattleSpec)
			_, errOut, exit := a.cli("commit", spec)
			require.Equal(t, 0, exit, errOut)
			require.Eventually(t, func() bool { return a.runs("cattle") }, eventually, tick)

			var overlaps, gaps, toCommit []time.Duration
			oldCommits := 0
			from, to := a, b
			for i := range n {
				time.Sleep(5*time.Millisecond + rand.N(20*time.Millisecond)) // not phase-locked to the poll
				flip := time.Now().UnixNano()
				c.setLeader(to.name)
				committed := to.firstEvent(flip, "commit", "cattle")
				freed := from.firstEvent(flip, "free", "cattle")
				toCommit = append(toCommit, time.Duration(committed-flip))
				oldCommits += len(from.eventsSince(flip, "commit", "cattle"))
				if committed < freed {
					overlaps = append(overlaps, time.Duration(freed-committed))
					t.Logf("flip %d: overlap %s", i+1, ms(freed-committed))
				} else {
					gaps = append(gaps, time.Duration(committed-freed))
				}
				from, to = to, from
			}
			t.Logf("handover: os %s: overlap in %d of %d flips%s; gap %s; flip to new leader's commit %s",
				mode, len(overlaps), n, spanOf(overlaps), percentiles(gaps), percentiles(toCommit))
			// The original manager reads global.config alone: still the
			// original format, the handover record beside it.
			require.Equal(t, []string{"cattle"}, c.stored())
			_, err := os.Stat(filepath.Join(c.storeDir, "handover.json"))
			require.NoError(t, err)
			if mode == "fenced" {
				require.Empty(t, overlaps, "a fenced handover never overlaps")
				require.Zero(t, oldCommits, "an old leader committed after a flip")
			}
		})
	}
}

// TestHandoverOSOldLeaderGone: the leader is frozen (SIGSTOP) or killed at
// the flip, so it can neither free nor release. The new leader waits until
// the old one's lease has certainly run out (about the lease), shows the
// wait in its status, then commits; the old leader's downstream sees no
// change after the flip while it is gone.
func TestHandoverOSOldLeaderGone(t *testing.T) {
	for _, how := range []string{"frozen", "killed"} {
		t.Run(how, func(t *testing.T) {
			c := newOSCluster(t, nameA)
			a, b := c.twoNodes()
			spec := c.writeSpec("cattle", cattleSpec)
			_, errOut, exit := a.cli("commit", spec)
			require.Equal(t, 0, exit, errOut)
			require.Eventually(t, func() bool { return a.runs("cattle") }, eventually, tick)

			if how == "frozen" {
				a.mgr.Signal(syscall.SIGSTOP)
				t.Cleanup(func() { _ = a.mgr.cmd.Process.Signal(syscall.SIGCONT) })
			} else {
				a.mgr.Kill()
			}
			flip := time.Now().UnixNano()
			c.setLeader(nameB)
			require.Eventually(t, func() bool {
				out, _, _ := runCLI(t, b.dir, "manager", "--name", b.name, "status")
				return hasAll(out, "Handover:", "waiting for release", "not released yet")
			}, eventually, tick, "the new leader's status shows the handover in progress")
			committed := b.firstEvent(flip, "commit", "cattle")
			waited := time.Duration(committed - flip)
			t.Logf("handover: os old leader %s: new leader committed %s after the flip (lease %s); overlap 0",
				how, waited.Round(time.Millisecond), osLease)
			// Safety, not speed: acting before the old lease could have
			// run out would risk both acting.
			require.GreaterOrEqual(t, waited, osLease, "the new leader acted before the old lease had run out")
			require.Empty(t, a.eventsSince(flip, "commit", "cattle"))
			out, _, _ := runCLI(t, b.dir, "manager", "--name", b.name, "status")
			require.Contains(t, out, "done")

			if how == "frozen" {
				resumed := time.Now().UnixNano()
				a.mgr.Signal(syscall.SIGCONT)
				freed := a.firstEvent(resumed, "free", "cattle")
				require.Empty(t, a.eventsSince(flip, "commit", "cattle"), "the resumed old leader committed")
				t.Logf("handover: os old leader resumed: freed %s after SIGCONT, never acted", ms(freed-resumed))
			}
		})
	}
}

func hasAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// percentiles renders p50, p99 and max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(int64(at(0.5))), ms(int64(at(0.99))), ms(int64(s[len(s)-1])), len(s))
}

// spanOf renders the largest of ds, if any.
func spanOf(ds []time.Duration) string {
	if len(ds) == 0 {
		return ""
	}
	return ", up to " + ms(int64(slices.Max(ds)))
}

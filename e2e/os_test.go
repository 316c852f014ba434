package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOSTwoNodes is the os-mode story on two real nodes (see osCluster):
// commit on the leader and on the follower, a leader file flip, and a
// destroyed group that must stay gone across two more flips. The steps
// share the cluster, so a failed step stops the story.
func TestOSTwoNodes(t *testing.T) {
	c := newOSCluster(t, nameA)
	a, b := c.twoNodes()
	cattle := c.writeSpec("cattle", cattleSpec)
	pets := c.writeSpec("pets", petsSpec)

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"commit on the leader", func(t *testing.T) {
			out, errOut, exit := a.cli("commit", cattle)
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "Committed cattle: Managing 2 instances\n", out)
			require.Equal(t, []string{"cattle"}, c.stored())
			require.True(t, a.runs("cattle"), "leader's downstream runs %v", a.running())
			require.True(t, b.runs(), "follower's downstream runs %v", b.running())

			out, errOut, exit = a.cli("describe", "cattle")
			require.Equal(t, 0, exit, errOut)
			require.Contains(t, out, "infrakit.group=cattle,project=infrakit,tier=web")
			require.Len(t, nonEmptyLines(out), 3, "header and two instances:\n%s", out)
		}},
		{"commit on the follower", func(t *testing.T) {
			out, errOut, exit := b.cli("commit", pets)
			require.Equal(t, 1, exit, "stdout: %s", out)
			require.Contains(t, errOut, "not-a-leader")
			require.Equal(t, []string{"cattle"}, c.stored(), "a follower stores nothing")

			// ls answers the shared store on every replica ...
			out, errOut, exit = b.cli("ls")
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "ID\ncattle\n", out)
			// ... describe answers this replica's own downstream, which runs nothing.
			_, errOut, exit = b.cli("describe", "cattle")
			require.Equal(t, 1, exit)
			require.Contains(t, errOut, "not being watched")
			require.True(t, b.runs())
		}},
		{"flip the leader file", func(t *testing.T) {
			flip := time.Now().UnixNano()
			c.setLeader(nameB)
			freed := a.firstEvent(flip, "free", "cattle")
			committed := b.firstEvent(flip, "commit", "cattle")
			require.Eventually(t, func() bool { return a.runs() && b.runs("cattle") }, eventually, tick)
			logHandover(t, flip, freed, committed)

			_, errOut, exit := a.cli("commit", pets)
			require.Equal(t, 1, exit)
			require.Contains(t, errOut, "not-a-leader")
			out, errOut, exit := b.cli("commit", pets)
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "Committed pets: Managing 1 instances\n", out)
			require.Equal(t, []string{"cattle", "pets"}, c.stored())
			require.True(t, b.runs("cattle", "pets"))
		}},
		{"destroy then flip twice", func(t *testing.T) {
			destroyed := time.Now().UnixNano()
			out, errOut, exit := b.cli("destroy", "cattle")
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "destroy cattle initiated\n", out)
			require.Equal(t, []string{"pets"}, c.stored())
			require.True(t, b.runs("pets"))
			require.NotEmpty(t, b.eventsSince(destroyed, "destroy", "cattle"))

			// After each flip the new leader restores what is stored
			// ("pets"), loaded in the same store read that would bring
			// back "cattle" if the destroy had not removed it.
			for _, flip := range []struct{ from, to *osNode }{{b, a}, {a, b}} {
				mark := time.Now().UnixNano()
				c.setLeader(flip.to.name)
				flip.to.firstEvent(mark, "commit", "pets")
				require.Eventually(t, func() bool { return flip.to.runs("pets") && flip.from.runs() }, eventually, tick,
					"after the flip to %s: %s runs %v, %s runs %v",
					flip.to.name, flip.to.name, flip.to.running(), flip.from.name, flip.from.running())
			}
			for _, n := range []*osNode{a, b} {
				require.Empty(t, n.eventsSince(destroyed, "commit", "cattle"), "cattle came back on %s", n.name)
			}
			require.Equal(t, []string{"pets"}, c.stored())
		}},
	}
	for _, s := range steps {
		if !c.run(t, s.name, s.fn) {
			return
		}
	}
	for _, n := range []*osNode{a, b} {
		require.Equal(t, 0, n.mgr.Stop(), "manager %s exit code", n.name)
	}
}

// logHandover reports the measured handover: when the old leader's
// downstream freed the group and the new one's committed it, relative to
// the flip, and whether the two overlapped (both managing) or left a gap.
func logHandover(t *testing.T, flip, freed, committed int64) {
	t.Helper()
	t.Logf("handover: old leader freed %s after the flip, new leader committed %s after the flip",
		ms(freed-flip), ms(committed-flip))
	if committed < freed {
		t.Logf("handover: overlap of %s (both downstreams managed the group)", ms(freed-committed))
	} else {
		t.Logf("handover: gap of %s (no downstream managed the group)", ms(committed-freed))
	}
}

// nonEmptyLines splits s into its non-blank lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

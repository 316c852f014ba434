package reconciler

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// TestStatusBoundedByGroupsThatAre: frees of groups nobody stores or runs
// leave no state behind once a resync has run, and Status never lists them
// (it listed every ledger record when nothing was stored or running: sim
// seed 3).
func TestStatusBoundedByGroupsThatAre(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	e.waitLeader(t, true)
	for _, id := range []plugin.ID{"never1", "never2", "never3"} {
		require.Error(t, e.m.Group().FreeGroup(t.Context(), id), "a free of a group nobody runs is the plugin's not-watched answer")
	}
	st, err := e.m.Group().(plugin.Manager).Status(t.Context())
	require.NoError(t, err)
	require.Empty(t, st.Groups, "nothing is stored, running or asked for")

	// A free's outcome reaches the ledger just after its caller's answer:
	// resync until one has run after the last record.
	eventually(t, func() bool {
		before := e.down.Inspected()
		e.m.Recheck("test")
		eventually(t, func() bool { return e.down.Inspected() > before }, "a resync ran")
		return len(e.m.r.ledger.Groups()) == 0
	}, "the ledger forgot the groups that are not")
}

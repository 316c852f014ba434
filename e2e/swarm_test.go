package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	swarmsrc "github.com/infrakit-manager/manager/sources/swarm"
	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// TestSwarm runs the swarm-mode scenarios against one real 3-manager Docker
// Swarm (hack/swarm-lab.sh through swarmtest), shared by all of them and
// torn down at the end. Each scenario starts its own downstreams and
// managers (see newSwarmCluster) from an empty label, and leaves the swarm
// with three healthy managers, so one failed scenario does not spoil the
// next. Without an engine the test is skipped, except under CI=true, where
// it fails.
func TestSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a Docker Swarm and real processes")
	}
	swarmtest.RequireEngine(t)
	for _, name := range []string{"infrakit-manager", "infrakit-group-sim", "infrakit"} {
		binary(t, name) // build before the clock of any scenario runs
	}
	start := time.Now()
	lab := swarmtest.StartLab(t, labManagers)
	t.Logf("started a %d-manager swarm lab in %s", labManagers, time.Since(start).Round(time.Millisecond))

	scenarios := []struct {
		name string
		fn   func(t *testing.T, lab *swarmtest.Lab)
	}{
		{"commit through the leader only", swarmCommitOnTheLeader},
		{"label holds the committed config", swarmLabelHoldsTheConfig},
		{"demote the leader", swarmDemoteTheLeader},
		{"kill the leader's engine", swarmKillTheLeadersEngine},
		{"frozen leader manager", swarmFrozenLeaderManager},
		{"frozen follower engine", swarmFrozenFollower},
		{"once", swarmOnce},
		{"label faults", swarmLabelFaults},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			begin := time.Now()
			s.fn(t, lab)
			t.Logf("scenario took %s", time.Since(begin).Round(time.Millisecond))
		})
	}
}

// swarmSpec is a valid one-instance group.
func swarmSpec(id string) string {
	return fmt.Sprintf(`{"ID":%q,"Properties":{"Allocation":{"Size":1},`+
		`"Instance":{"Plugin":"instance-file","Properties":{"Note":"swarm e2e"}},`+
		`"Flavor":{"Plugin":"flavor-vanilla","Properties":{}}}}`, id)
}

// The leader's manager stores and runs a commit; the followers' managers
// refuse commits with not-a-leader, but list the stored group: the store is
// the swarm's, shared by every manager.
func swarmCommitOnTheLeader(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	cattle := c.oc.writeSpec("cattle", cattleSpec)
	pets := c.oc.writeSpec("pets", petsSpec)
	leader := c.leader()

	leader.commit(cattle, "cattle", "Managing 2 instances")
	c.converged(leader, eventually, "cattle")
	for _, f := range c.others(leader) {
		f.refuses(pets)
		f.lists("cattle")
	}
	leader.lists("cattle")

	out, errOut, exit := leader.cli("describe", "cattle")
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "infrakit.group=cattle,project=infrakit,tier=web")
	require.Equal(t, []string{"cattle"}, c.labelGroups(leader.i))
}

// The label holds what was committed, in the original's format: the same
// value through every engine, readable by hand (base64, zlib, indented
// JSON), by DecodeLabel, and by the swarm Store through a follower.
func swarmLabelHoldsTheConfig(t *testing.T, lab *swarmtest.Lab) {
	c := newSwarmCluster(t, lab)
	leader := c.leader()
	specs := map[string]string{"cattle": cattleSpec, "pets": petsSpec}
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	leader.commit(c.oc.writeSpec("pets", petsSpec), "pets", "Managing 1 instances")

	value, ok := c.rawLabel(leader.i)
	require.True(t, ok, "no %q label after two commits", labelKey)
	for _, f := range c.others(leader) {
		v, ok := c.rawLabel(f.i)
		require.True(t, ok)
		require.Equal(t, value, v, "the label read through node %d", f.i)
	}
	require.True(t, strings.HasPrefix(value, "eJ"), "zlib at the default level encodes to eJ…: %.20s", value)

	doc, groups := decodeLabelByHand(t, value)
	require.Len(t, groups, len(specs))
	for id, spec := range specs {
		require.Contains(t, groups, id)
		require.Equal(t, downstream, groups[id].Plugin, "group %s", id)
		require.JSONEq(t, spec, string(groups[id].Properties), "group %s: the whole spec is stored", id)
	}

	cfg, err := swarmsrc.DecodeLabel(value)
	require.NoError(t, err)
	encoded, err := sources.EncodeConfig(cfg)
	require.NoError(t, err)
	require.Equal(t, string(encoded), string(doc), "the label's JSON is the original's indented format")

	follower := c.others(leader)[0]
	opts := swarmsrc.DefaultClientOptions()
	opts.Host = follower.host
	cl, err := swarmsrc.NewClient(opts)
	require.NoError(t, err)
	defer cl.Close()
	store, err := swarmsrc.NewStore(cl, swarmsrc.DefaultStoreOptions())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
	defer cancel()
	loaded, version, err := store.Load(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, version)
	require.Equal(t, []string{"cattle", "pets"}, groupIDs(loaded))
	for id, spec := range specs {
		e := loaded.Groups[plugin.ID(id)]
		require.Equal(t, downstream, e.Plugin, "group %s", id)
		require.JSONEq(t, spec, string(e.Properties), "group %s", id)
	}
}

package grouptest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// Spec is a valid group of size instances, as the contract commits it.
func Spec(id string, size int) plugin.Spec {
	props, _ := json.Marshal(map[string]any{
		"Allocation": map[string]any{"Size": size},
		"Instance":   map[string]any{"Plugin": "instance-file", "Properties": map[string]any{"Note": "contract"}},
		"Flavor":     map[string]any{"Plugin": "flavor-vanilla", "Properties": map[string]any{"Tags": map[string]string{"suite": "contract"}}},
	})
	return plugin.Spec{ID: plugin.ID(id), Properties: props}
}

// notWatched is the original's text for a group it does not manage.
func notWatched(id string) string { return "Group '" + id + "' is not being watched" }

// ids lists the IDs of specs in order.
func ids(specs []plugin.Spec) []plugin.ID {
	var out []plugin.ID
	for _, s := range specs {
		out = append(out, s.ID)
	}
	return out
}

// RunGroupContract runs the Group contract against fresh Groups from newG.
// Each subtest gets its own Group, which starts with no groups.
func RunGroupContract(t *testing.T, newG func(t *testing.T) plugin.Group) {
	t.Helper()
	ctx := context.Background()

	t.Run("empty inspect is nil", func(t *testing.T) {
		specs, err := newG(t).InspectGroups(ctx)
		require.NoError(t, err)
		require.Nil(t, specs, "wire: \"Groups\":null")
	})

	t.Run("commit manages, inspect lists, describe shows instances", func(t *testing.T) {
		g := newG(t)
		details, err := g.CommitGroup(ctx, Spec("cattle", 2), false)
		require.NoError(t, err)
		require.Equal(t, "Managing 2 instances", details)
		_, err = g.CommitGroup(ctx, Spec("bees", 1), false)
		require.NoError(t, err)
		specs, err := g.InspectGroups(ctx)
		require.NoError(t, err)
		require.Equal(t, []plugin.ID{"bees", "cattle"}, ids(specs), "sorted by ID")
		desc, err := g.DescribeGroup(ctx, "cattle")
		require.NoError(t, err)
		require.Len(t, desc.Instances, 2)
		for _, in := range desc.Instances {
			require.Equal(t, "cattle", in.Tags["infrakit.group"])
		}
	})

	t.Run("pretend changes nothing", func(t *testing.T) {
		g := newG(t)
		details, err := g.CommitGroup(ctx, Spec("cattle", 3), true)
		require.NoError(t, err)
		require.Equal(t, "Managing 3 instances", details)
		specs, err := g.InspectGroups(ctx)
		require.NoError(t, err)
		require.Empty(t, specs)
	})

	t.Run("recommit of the same spec is a noop", func(t *testing.T) {
		g := newG(t)
		_, err := g.CommitGroup(ctx, Spec("cattle", 1), false)
		require.NoError(t, err)
		details, err := g.CommitGroup(ctx, Spec("cattle", 1), true)
		require.NoError(t, err)
		require.Equal(t, "Noop", details)
	})

	t.Run("invalid specs are rejected", func(t *testing.T) {
		g := newG(t)
		_, err := g.CommitGroup(ctx, plugin.Spec{Properties: json.RawMessage(`{}`)}, false)
		require.ErrorContains(t, err, "Group ID must not be blank")
		_, err = g.CommitGroup(ctx, plugin.Spec{ID: "x", Properties: json.RawMessage(`{"Instance":{}}`)}, false)
		require.ErrorContains(t, err, "Allocation must not be blank")
		specs, err := g.InspectGroups(ctx)
		require.NoError(t, err)
		require.Empty(t, specs)
	})

	for _, op := range []string{"free", "destroy"} {
		t.Run(op+" stops managing the group", func(t *testing.T) {
			g := newG(t)
			_, err := g.CommitGroup(ctx, Spec("cattle", 1), false)
			require.NoError(t, err)
			call := g.FreeGroup
			if op == "destroy" {
				call = g.DestroyGroup
			}
			require.NoError(t, call(ctx, "cattle"))
			specs, err := g.InspectGroups(ctx)
			require.NoError(t, err)
			require.Empty(t, specs)
			_, err = g.DescribeGroup(ctx, "cattle")
			require.ErrorContains(t, err, notWatched("cattle"))
		})
	}

	t.Run("unknown groups are not being watched", func(t *testing.T) {
		g := newG(t)
		require.ErrorContains(t, g.FreeGroup(ctx, "nosuch"), notWatched("nosuch"))
		require.ErrorContains(t, g.DestroyGroup(ctx, "nosuch"), notWatched("nosuch"))
		_, err := g.DescribeGroup(ctx, "nosuch")
		require.ErrorContains(t, err, notWatched("nosuch"))
	})
}

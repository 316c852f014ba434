package groupsim

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// cattleProps is the group properties of the wire samples (§1-§5).
const cattleProps = `{"Allocation":{"Size":2},"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 1.0"}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}}}`

// cattleInspected is what the original answered to InspectGroups (wire sample §5).
const cattleInspected = `{"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 1.0"}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}},"Allocation":{"Size":2,"LogicalIDs":null}}`

// cattleSHA is the infrakit.config_sha tag of the wire samples.
const cattleSHA = "8ONhIwhucCowu76eoohetlhtWaA="

func TestCommitValidation(t *testing.T) {
	cases := []struct {
		name  string
		id    plugin.ID
		props string
		err   string
	}{
		{"blank id first", "", `not json`, "Group ID must not be blank"},
		{"blank id valid props", "", cattleProps, "Group ID must not be blank"},
		{"props not json", "g", `{"Allocation":`, "Invalid properties: unexpected end of JSON input"},
		{"props wrong type", "g", `{"Allocation":{"Size":"two"}}`, "Invalid properties: json: cannot unmarshal string into Go struct field allocation.Allocation.Size of type uint"},
		{"negative size", "g", `{"Allocation":{"Size":-1}}`, "Invalid properties: json: cannot unmarshal number -1 into Go struct field allocation.Allocation.Size of type uint"},
		{"props array", "g", `[]`, "Invalid properties: json: cannot unmarshal array into Go value of type groupsim.properties"},
		{"no props", "g", ``, "Allocation must not be blank"},
		{"null props", "g", `null`, "Allocation must not be blank"},
		{"empty object", "g", `{}`, "Allocation must not be blank"},
		{"zero size", "g", `{"Allocation":{"Size":0,"LogicalIDs":[]}}`, "Allocation must not be blank"},
		{"both methods", "g", `{"Allocation":{"Size":1,"LogicalIDs":["a"]}}`, "Only one Allocation method may be used"},
		{"allocation checked before flavor", "g", `{"Allocation":{},"Flavor":{"Properties":{"Tags":[1]}}}`, "Allocation must not be blank"},
		{"duplicate logical id", "g", `{"Allocation":{"LogicalIDs":["a","b","a"]}}`, "Duplicate logical ID 'a'"},
		{"too large", "g", `{"Allocation":{"Size":1000000000}}`, "Allocation size 1000000000 exceeds the simulator's limit of 10000 instances"},
		{"bad flavor tags", "g", `{"Allocation":{"Size":1},"Flavor":{"Properties":{"Tags":{"a":1}}}}`, "Invalid flavor properties: json: cannot unmarshal number into Go struct field flavorProperties.Tags of type string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newTestPlugin(t, DefaultOptions())
			for _, pretend := range []bool{true, false} {
				_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: c.id, Properties: json.RawMessage(c.props)}, pretend)
				require.EqualError(t, err, c.err)
				require.ErrorIs(t, err, ErrInvalidSpec)
			}
			groups, err := p.InspectGroups(t.Context())
			require.NoError(t, err)
			require.Nil(t, groups, "a rejected spec must not be managed")
		})
	}
}

func TestWireSampleCompatibility(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	ctx := t.Context()

	details, err := p.CommitGroup(ctx, plugin.Spec{ID: "cattle", Properties: json.RawMessage(cattleProps)}, false)
	require.NoError(t, err)
	require.Equal(t, "Managing 2 instances", details)

	details, err = p.CommitGroup(ctx, plugin.Spec{ID: "cattle", Properties: json.RawMessage(cattleProps)}, true)
	require.NoError(t, err)
	require.Equal(t, "Noop", details)

	groups, err := p.InspectGroups(ctx)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, plugin.ID("cattle"), groups[0].ID)
	require.Equal(t, cattleInspected, string(groups[0].Properties))

	// The whole response as the original put it on the wire.
	wire, err := json.Marshal(plugin.InspectGroupsResponse{Groups: groups})
	require.NoError(t, err)
	require.Equal(t, `{"Groups":[{"ID":"cattle","Properties":`+cattleInspected+`}]}`, string(wire))

	desc, err := p.DescribeGroup(ctx, "cattle")
	require.NoError(t, err)
	require.True(t, desc.Converged)
	require.Len(t, desc.Instances, 2)
	for _, inst := range desc.Instances {
		require.Regexp(t, `^instance-[0-9]+$`, inst.ID)
		require.Nil(t, inst.LogicalID)
		require.Equal(t, map[string]string{
			"infrakit.config_sha": cattleSHA,
			"infrakit.group":      "cattle",
			"project":             "infrakit",
			"tier":                "web",
		}, inst.Tags)
	}
	wire, err = json.Marshal(desc.Instances[0])
	require.NoError(t, err)
	require.Contains(t, string(wire), `"LogicalID":null`)
}

func TestConfigSHAIgnoresKeyOrderAndAllocation(t *testing.T) {
	parse := func(props string) desired {
		t.Helper()
		d, err := parseSpec(plugin.Spec{ID: "cattle", Properties: json.RawMessage(props)}, 100)
		require.NoError(t, err)
		return d
	}
	base := parse(cattleProps)
	require.Equal(t, cattleSHA, base.configSHA)

	reordered := parse(`{"Flavor":{"Properties":{"Tags":{"project":"infrakit","tier":"web"},"Init":["echo hello"]},"Plugin":"flavor-vanilla"},"Instance":{"Properties":{"Note":"Instance properties version 1.0"},"Plugin":"instance-file"},"Allocation":{"Size":2}}`)
	require.Equal(t, cattleSHA, reordered.configSHA)

	resized := parse(`{"Allocation":{"Size":7},"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 1.0"}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}}}`)
	require.Equal(t, cattleSHA, resized.configSHA)

	changed := parse(`{"Allocation":{"Size":2},"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 2.0"}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}}}`)
	require.NotEqual(t, cattleSHA, changed.configSHA)
}

func TestInspectLogicalIDs(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	_, err := p.CommitGroup(context.Background(), plugin.Spec{ID: "pets", Properties: json.RawMessage(`{"Allocation":{"LogicalIDs":["10.0.0.2","10.0.0.1"]}}`)}, false)
	require.NoError(t, err)
	groups, err := p.InspectGroups(t.Context())
	require.NoError(t, err)
	require.Equal(t, `{"Instance":{"Plugin":"","Properties":null},"Flavor":{"Plugin":"","Properties":null},"Allocation":{"Size":0,"LogicalIDs":["10.0.0.2","10.0.0.1"]}}`, string(groups[0].Properties))
}

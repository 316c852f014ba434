package groupsim

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// stableJSONReference is the original's stable encoding as first written
// here: re-encode, decode into a map, indent.
func stableJSONReference(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return json.MarshalIndent(generic, "  ", "  ")
}

var shaCases = []string{
	cattleProps,
	`{"Allocation":{"Size":1}}`,
	`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":null},"Flavor":{"Plugin":"f"}}`,
	`{"Allocation":{"Size":1},"Instance":{"Plugin":"i<&>é","Properties":{"b":1.50,"a":[1e2,-0,"x\u2028"],"a":{"dup":true}}}}`,
	`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":"str"},"Flavor":{"Plugin":"f","Properties":[{"z":null,"y":{}}]}}`,
	`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":  { "x" : 1 } }}`,
}

func TestStableJSONIsReference(t *testing.T) {
	for _, c := range shaCases {
		var p properties
		require.NoError(t, json.Unmarshal([]byte(c), &p))
		for _, ref := range []pluginRef{p.Instance, p.Flavor} {
			want, err := stableJSONReference(ref)
			require.NoError(t, err)
			got, err := stableJSON(ref)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "props %s", c)
		}
	}
}

func TestSHACacheIsConfigSHA(t *testing.T) {
	var c shaCache
	for round := range 2 { // second round: from the cache
		for _, s := range shaCases {
			var p properties
			require.NoError(t, json.Unmarshal([]byte(s), &p))
			want, err := configSHA(p)
			require.NoError(t, err)
			got, err := c.sum(p)
			require.NoError(t, err)
			require.Equal(t, want, got, "round %d props %s", round, s)
		}
	}
	require.Len(t, c.m, len(shaCases))

	// the same bytes split differently between the parts are another key
	a := `{"Plugin":"ab","Properties":{"x":1}}`
	b := `{"Plugin":"a","Properties":{"x":1}}`
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		var p properties
		require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf(`{"Instance":%s,"Flavor":%s}`, pair[0], pair[1])), &p))
		want, err := configSHA(p)
		require.NoError(t, err)
		got, err := c.sum(p)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestSHACacheBounded(t *testing.T) {
	var c shaCache
	for i := range 3 * maxSHACacheEntries {
		d, err := parseSpecCached(plugin.Spec{ID: "g", Properties: json.RawMessage(fmt.Sprintf(
			`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":{"N":%d}}}`, i))}, 10, &c)
		require.NoError(t, err)
		want, err := parseSpec(plugin.Spec{ID: "g", Properties: json.RawMessage(fmt.Sprintf(
			`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":{"N":%d}}}`, i))}, 10)
		require.NoError(t, err)
		require.Equal(t, want.configSHA, d.configSHA)
		require.LessOrEqual(t, len(c.m), maxSHACacheEntries)
	}
}

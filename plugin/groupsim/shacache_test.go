package groupsim

import (
	"encoding/json"
	"fmt"
	"slices"
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

func TestSpecCacheBounded(t *testing.T) {
	var c specCache
	for i := range 3 * maxSpecCacheEntries {
		spec := plugin.Spec{ID: "g", Properties: json.RawMessage(fmt.Sprintf(
			`{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":{"N":%d}}}`, i))}
		d, err := parseSpecCached(spec, 10, &c)
		require.NoError(t, err)
		want, err := parseSpec(spec, 10)
		require.NoError(t, err)
		require.Equal(t, want, d)
		require.LessOrEqual(t, len(c.m), maxSpecCacheEntries)
		require.LessOrEqual(t, len(c.shas.m), maxSHACacheEntries)
	}
}

// TestSpecCacheIsParse: a parse from the cache is the parse, for every
// group committed with the same properties (tags per group), errors are
// not kept, and another instance limit parses again.
func TestSpecCacheIsParse(t *testing.T) {
	var c specCache
	cases := append(slices.Clone(shaCases),
		`{"Allocation":{"LogicalIDs":["a","b"]},"Flavor":{"Plugin":"f","Properties":{"Tags":{"t":"1"}}}}`,
		`{"Allocation":{"LogicalIDs":["a","a"]}}`,
		`{"Allocation":{"Size":5}}`,
		`{"Allocation":{}}`,
		`{"Allocation":{"Size":1},"Flavor":{"Plugin":"f","Properties":{"Tags":7}}}`,
		`not json`,
	)
	for round := range 2 {
		for _, s := range cases {
			for _, id := range []plugin.ID{"g1", "g2", ""} {
				spec := plugin.Spec{ID: id, Properties: json.RawMessage(s)}
				for _, limit := range []int{4, 100} {
					want, werr := parseSpec(spec, limit)
					got, gerr := parseSpecCached(spec, limit, &c)
					require.Equal(t, fmt.Sprint(werr), fmt.Sprint(gerr), "round %d props %s", round, s)
					require.Equal(t, want, got, "round %d props %s", round, s)
				}
			}
		}
	}
	for raw := range c.m {
		_, err := parseProps([]byte(raw), c.m[raw].maxInstances, nil)
		require.NoError(t, err, "a failed parse was kept: %s", raw)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

func TestReadSpec(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want plugin.Spec
		err  string
	}{
		{"full", `{"ID":"g","Properties":{"Allocation":{"Size":1}}}`, plugin.Spec{ID: "g", Properties: []byte(`{"Allocation":{"Size":1}}`)}, ""},
		{"spaces", " \n{\"ID\":\"g\"}\n\n", plugin.Spec{ID: "g"}, ""},
		{"blank id left to the plugin", `{}`, plugin.Spec{}, ""},
		{"empty", "  ", plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: empty document`},
		{"array", `[{"ID":"g"}]`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: not a JSON object`},
		{"null", `null`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: not a JSON object`},
		{"unknown field", `{"ID":"g","Allocation":{}}`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: json: unknown field "Allocation"`},
		{"broken", `{"ID":`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: line 1, column 7: unexpected EOF`},
		{"two documents", `{"ID":"a"}{"ID":"b"}`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: line 1, column 11: unexpected data after the JSON object`},
		{"id not a string", `{"ID":1}`, plugin.Spec{}, `invalid group spec in standard input: want {"ID":…,"Properties":…}: line 1, column 7: json: cannot unmarshal number into Go struct field Spec.ID of type plugin.ID`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readSpec("-", strings.NewReader(c.in))
			if c.err != "" {
				require.EqualError(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want.ID, got.ID)
			require.Equal(t, string(c.want.Properties), string(got.Properties))
		})
	}
}

func TestReadSpecFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"ID":"`+strings.Repeat("x", maxSpecBytes)+`"}`), 0o600))
	_, err := readSpec(p, nil)
	require.EqualError(t, err, "group spec in "+p+" is larger than 16777216 bytes")

	_, err = readSpec(dir, nil)
	require.ErrorContains(t, err, "read group spec: read "+dir+": is a directory")
}

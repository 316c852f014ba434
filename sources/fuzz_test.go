package sources_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

func FuzzDecodeConfig(f *testing.F) {
	original, err := os.ReadFile(filepath.Join("testdata", "original-global.config"))
	require.NoError(f, err)
	for _, seed := range []string{
		string(original),
		string(original[:len(original)/2]),
		"", "{}", "{}\n{}", "null", `{"Groups":null}`, `{"groups":{"a":{}}}`,
		`{"Groups":{"a":{"Plugin":"p","Properties":null}}}`,
		`{"Groups":{"a":{"Plugin":7}}}`,
		`{"Groups":{"":{"Plugin":"p","Properties":{"ID":""}}}}`,
		"{\"Groups\":{\"\xff\":{\"Properties\":\"\xfe\"}}}",
		`{"Groups":{},"Destroying":{"a":{"Plugin":"p","Properties":{"ID":"a"}}}}`,
		`{"Destroying":{"":{"Plugin":"p","Properties":null}},"Groups":{"a":{}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := sources.DecodeConfig(data)
		if err != nil {
			require.ErrorIs(t, err, sources.ErrCorrupt)
			return
		}
		enc, err := sources.EncodeConfig(cfg)
		require.NoError(t, err)
		again, err := sources.DecodeConfig(enc)
		require.NoError(t, err)
		require.Len(t, again.Groups, len(cfg.Groups))
		for id, e := range cfg.Groups {
			g, ok := again.Groups[id]
			require.True(t, ok, "group %q lost", id)
			require.Equal(t, e.Plugin, g.Plugin)
			require.JSONEq(t, rawOrNull(e.Properties), rawOrNull(g.Properties), "properties of %q", id)
		}
		require.Len(t, again.Destroying, len(cfg.Destroying), "pending destroys")
		// Equal configs encode to the same bytes: the stored form is a fixed point.
		enc2, err := sources.EncodeConfig(again)
		require.NoError(t, err)
		require.Equal(t, string(enc), string(enc2))
	})
}

func rawOrNull(m []byte) string {
	if len(m) == 0 {
		return "null"
	}
	return string(m)
}

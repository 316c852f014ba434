package etcd

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestImportExportRoundTripIsIdempotent(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli, testPrefix(t, cli), nil)
	ctx := etcdtest.Context(t)
	data, err := os.ReadFile("../testdata/original-global.config")
	require.NoError(t, err)
	orig, err := sources.DecodeConfig(data)
	require.NoError(t, err)
	require.NotEmpty(t, orig.Groups)

	n, err := Import(ctx, s, orig, 126)
	require.NoError(t, err)
	require.Equal(t, len(orig.Groups), n)
	n, err = Import(ctx, s, orig, 126)
	require.NoError(t, err)
	require.Zero(t, n, "a second import wrote again")

	out, err := Export(ctx, s)
	require.NoError(t, err)
	back, err := sources.DecodeConfig(out)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, orig, back)
	again, err := Export(ctx, s)
	require.NoError(t, err)
	require.Equal(t, out, again)
}

func TestImportSplitsLargeConfigs(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli, testPrefix(t, cli), nil)
	ctx := etcdtest.Context(t)
	big := sourcestest.SampleConfig("keep")
	_, err := s.Save(ctx, big, "")
	require.NoError(t, err)
	cfg := sourcestest.SampleConfig()
	for i := range 300 {
		id := plugin.ID(fmt.Sprintf("g%03d", i))
		cfg.Groups[id] = sourcestest.SampleEntry(id)
	}
	n, err := Import(ctx, s, cfg, 126)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	got, _, err := s.Load(ctx)
	require.NoError(t, err)
	cfg.Groups["keep"] = sourcestest.SampleEntry("keep")
	sourcestest.RequireEqualConfig(t, cfg, got)
}

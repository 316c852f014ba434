package etcd

import (
	"fmt"
	"os"
	"strings"
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

	n, err := Import(ctx, s, orig, DefaultBatch())
	require.NoError(t, err)
	require.Equal(t, len(orig.Groups), n)
	n, err = Import(ctx, s, orig, DefaultBatch())
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
	n, err := Import(ctx, s, cfg, DefaultBatch())
	require.NoError(t, err)
	require.Equal(t, 300, n)
	got, _, err := s.Load(ctx)
	require.NoError(t, err)
	cfg.Groups["keep"] = sourcestest.SampleEntry("keep")
	sourcestest.RequireEqualConfig(t, cfg, got)
}

// TestImportHTMLCharactersIsIdempotent: specs holding `&`, `<` and `>`
// (shell Init lines) are stored as written, and a second import, of the
// same file or of one that escapes them (`\u0026`), writes nothing.
func TestImportHTMLCharactersIsIdempotent(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	ctx := etcdtest.Context(t)
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	escaped := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for i := range 130 {
		id := plugin.ID(fmt.Sprintf("g%03d", i))
		cfg.Groups[id] = sources.Entry{Plugin: "group", Properties: []byte(`{"ID":"` + string(id) + `","Init":"a && b > /tmp/<x>"}`)}
		escaped.Groups[id] = sources.Entry{Plugin: "group", Properties: []byte(`{"ID":"` + string(id) + `","Init":"a \u0026\u0026 b \u003e /tmp/\u003cx\u003e"}`)}
	}
	n, err := Import(ctx, s, cfg, DefaultBatch())
	require.NoError(t, err)
	require.Equal(t, 130, n)
	for _, c := range []sources.Config{cfg, escaped} {
		n, err = Import(ctx, s, c, DefaultBatch())
		require.NoError(t, err)
		require.Zero(t, n, "a second import wrote again")
	}
	resp, err := cli.Get(ctx, p+"/groups/g000")
	require.NoError(t, err)
	require.Contains(t, string(resp.Kvs[0].Value), `a && b > /tmp/<x>`, "stored escaped")
}

// TestImportBatchesByBytes: large values split a batch before etcd's
// request size limit.
func TestImportBatchesByBytes(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli, testPrefix(t, cli), nil)
	ctx := etcdtest.Context(t)
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	pad := strings.Repeat("x", 200<<10)
	for i := range 20 { // 4 MB in all: more than one request may hold
		id := plugin.ID(fmt.Sprintf("big%02d", i))
		cfg.Groups[id] = sources.Entry{Plugin: "group", Properties: []byte(`{"ID":"` + string(id) + `","Pad":"` + pad + `"}`)}
	}
	n, err := Import(ctx, s, cfg, DefaultBatch())
	require.NoError(t, err)
	require.Equal(t, 20, n)
	n, err = Import(ctx, s, cfg, DefaultBatch())
	require.NoError(t, err)
	require.Zero(t, n)
}

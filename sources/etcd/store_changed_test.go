package etcd

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// allChanged is a Store whose Save is SaveChanged naming every group of
// cfg and of the stored config (pending destroys included): with the full list it must keep Save's
// whole contract.
type allChanged struct{ *Store }

func (s allChanged) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	stored, _, err := s.Store.Load(ctx)
	if err != nil {
		return "", err
	}
	var ids []plugin.ID
	for id := range cfg.Groups {
		ids = append(ids, id)
	}
	for id := range stored.Groups {
		ids = append(ids, id) // duplicates included on purpose
	}
	for _, m := range []map[plugin.ID]sources.Entry{cfg.Destroying, stored.Destroying} {
		for id := range m {
			ids = append(ids, id) // a changed ID names its pending destroy too
		}
	}
	return s.SaveChanged(ctx, cfg, expected, ids)
}

func TestStoreSaveChangedContract(t *testing.T) {
	cli := newClient(t)
	sourcestest.RunStoreContract(t, func(t *testing.T) sources.Store {
		p := testPrefix(t, cli)
		l := newLeadership(t, cli, p, "m1")
		requireLeader(t, l, 5*time.Second)
		return allChanged{newStore(t, cli, p, l)}
	})
}

func TestStoreSaveChangedLooksOnlyAtNamedGroups(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	ctx := etcdtest.Context(t)
	v1, err := s.Save(ctx, sourcestest.SampleConfig("a", "b", "c"), "")
	require.NoError(t, err)
	before := modRevs(t, cli, p)

	cfg, v, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v1, v)
	changedB := sources.Entry{Plugin: "group-stateless", Properties: []byte(`{"ID":"b","Properties":{"Allocation":{"Size":5}}}`)}
	cfg.Groups["b"] = changedB
	delete(cfg.Groups, "c")
	cfg.Groups["d"] = sourcestest.SampleEntry("d")
	// a differs too but is not named: SaveChanged leaves it as stored.
	cfg.Groups["a"] = sources.Entry{Plugin: "group-stateless", Properties: []byte(`{"ID":"a"}`)}
	v2, err := s.SaveChanged(ctx, cfg, v1, []plugin.ID{"d", "b", "c", "b", "never-stored"})
	require.NoError(t, err)

	after := modRevs(t, cli, p)
	require.Equal(t, before[p+"/groups/a"], after[p+"/groups/a"], "a group not named was written")
	require.NotEqual(t, before[p+"/groups/b"], after[p+"/groups/b"])
	require.NotContains(t, after, p+"/groups/c")
	require.Contains(t, after, p+"/groups/d")
	require.NotContains(t, after, p+"/groups/never-stored")

	want := sourcestest.SampleConfig("a", "d")
	want.Groups["b"] = changedB
	got, v, err := newStore(t, cli, p, nil).Load(ctx)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, want, got)
	got, v, err = s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v2, v)
	sourcestest.RequireEqualConfig(t, want, got)

	v3, err := s.SaveChanged(ctx, got, v2, []plugin.ID{"a", "b"})
	require.NoError(t, err)
	require.Equal(t, v2, v3, "a save that changes nothing writes nothing")
	_, err = s.SaveChanged(ctx, got, v1, []plugin.ID{"a"})
	require.ErrorIs(t, err, sources.ErrConflict)
}

func TestStoreSaveChangedNeverOverwritesUnreadable(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	ctx := etcdtest.Context(t)
	_, err := cli.Put(ctx, p+"/groups/bad", `{"Plugin": 42`)
	require.NoError(t, err)
	s := newStore(t, cli, p, nil)
	_, v, err := s.Load(ctx)
	require.NoError(t, err)

	_, err = s.SaveChanged(ctx, sourcestest.SampleConfig("bad"), v, []plugin.ID{"bad"})
	require.ErrorIs(t, err, sources.ErrCorrupt)
	v, err = s.SaveChanged(ctx, sourcestest.SampleConfig("good"), v, []plugin.ID{"good", "bad"})
	require.NoError(t, err, "naming an unreadable group that cfg does not hold leaves it alone")
	resp, err := cli.Get(ctx, p+"/groups/bad")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Equal(t, `{"Plugin": 42`, string(resp.Kvs[0].Value))
	got, _, err := s.Load(ctx)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("good"), got)
	require.NotEmpty(t, v)
}

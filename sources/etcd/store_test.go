package etcd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

var _ sources.Store = (*Store)(nil)

func TestStoreContract(t *testing.T) {
	cli := newClient(t)
	t.Run("unfenced", func(t *testing.T) {
		sourcestest.RunStoreContract(t, func(t *testing.T) sources.Store {
			return newStore(t, cli, testPrefix(t, cli), nil)
		})
	})
	t.Run("fenced by a leading candidate", func(t *testing.T) {
		sourcestest.RunStoreContract(t, func(t *testing.T) sources.Store {
			p := testPrefix(t, cli)
			l := newLeadership(t, cli, p, "m1")
			requireLeader(t, l, 5*time.Second)
			return newStore(t, cli, p, l)
		})
	})
}

func TestStoreKeysAndValues(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	ctx := etcdtest.Context(t)
	ids := []plugin.ID{"plain", "a/b", "../x", "%41", "ü ñ", "with space", "."}
	cfg := sourcestest.SampleConfig(ids...)
	_, err := s.Save(ctx, cfg, "")
	require.NoError(t, err)

	resp, err := cli.Get(ctx, p+"/groups/", clientv3.WithPrefix())
	require.NoError(t, err)
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = string(kv.Value)
	}
	require.Len(t, got, len(ids)+1, "one key per group plus the version key")
	require.Contains(t, got, p+"/groups/")
	require.JSONEq(t, `{"Plugin":"group-stateless","Properties":{"ID":"a/b","Properties":{"Allocation":{"Size":2}}}}`,
		got[p+"/groups/a%2Fb"])
	require.Contains(t, got, p+"/groups/..%2Fx")
	require.Contains(t, got, p+"/groups/%2541")

	other := newStore(t, cli, p, nil)
	loaded, _, err := other.Load(ctx)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, cfg, loaded)
}

func TestStoreWritesOnlyChangedKeys(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	ctx := etcdtest.Context(t)
	cfg := sourcestest.SampleConfig("a", "b", "c")
	v1, err := s.Save(ctx, cfg, "")
	require.NoError(t, err)
	before := modRevs(t, cli, p)

	cfg.Groups["b"] = sources.Entry{Plugin: "group-stateless", Properties: []byte(`{"ID":"b","Properties":{"Allocation":{"Size":5}}}`)}
	delete(cfg.Groups, "c")
	cfg.Groups["d"] = sourcestest.SampleEntry("d")
	v2, err := s.Save(ctx, cfg, v1)
	require.NoError(t, err)
	after := modRevs(t, cli, p)
	require.Equal(t, before[p+"/groups/a"], after[p+"/groups/a"], "unchanged group rewritten")
	require.NotEqual(t, before[p+"/groups/b"], after[p+"/groups/b"])
	require.NotContains(t, after, p+"/groups/c")
	require.Contains(t, after, p+"/groups/d")

	v3, err := s.Save(ctx, cfg, v2)
	require.NoError(t, err)
	require.Equal(t, v2, v3, "a save that changes nothing writes nothing")
	require.Equal(t, after, modRevs(t, cli, p))
}

func modRevs(t *testing.T, cli *clientv3.Client, p string) map[string]int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), p+"/groups/", clientv3.WithPrefix())
	require.NoError(t, err)
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = kv.ModRevision
	}
	return out
}

func TestStoreFollowerSeesCommitAtOnce(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	leader := newStore(t, cli, p, nil)
	follower := newStore(t, cli, p, nil)
	ctx := etcdtest.Context(t)
	_, _, err := follower.Load(ctx)
	require.NoError(t, err)
	var worst time.Duration
	for i := range 20 {
		id := plugin.ID(fmt.Sprintf("g%d", i))
		start := time.Now()
		_, _, err := sources.Update(ctx, leader, func(c *sources.Config) error {
			c.Groups[id] = sourcestest.SampleEntry(id)
			return nil
		})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			cfg, _, err := follower.Load(ctx)
			_, ok := cfg.Groups[id]
			return err == nil && ok
		}, 5*time.Second, time.Millisecond)
		worst = max(worst, time.Since(start))
	}
	t.Logf("commit on one store → visible on another: worst of 20 %s", worst.Round(time.Microsecond))
}

func TestStoreForeignValueSkippedNeverOverwritten(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	ctx := etcdtest.Context(t)
	_, err := cli.Put(ctx, p+"/groups/bad", `{"Plugin": 42`)
	require.NoError(t, err)
	_, err = cli.Put(ctx, p+"/groups/bad%2", `{}`) // not an escaped ID
	require.NoError(t, err)
	s := newStore(t, cli, p, nil)
	cfg, v0, err := s.Load(ctx)
	require.NoError(t, err)
	require.Empty(t, cfg.Groups)
	require.NotEmpty(t, v0, "an unreadable key is still a stored state")
	v, err := s.Save(ctx, sourcestest.SampleConfig("good"), v0)
	require.NoError(t, err)

	cfg, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("good"), cfg)

	_, err = s.Save(ctx, sourcestest.SampleConfig("good", "bad"), v)
	require.ErrorIs(t, err, sources.ErrCorrupt)
	_, err = s.Save(ctx, sourcestest.SampleConfig(), v) // deletes good, must keep bad
	require.NoError(t, err)
	resp, err := cli.Get(ctx, p+"/groups/bad")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Equal(t, `{"Plugin": 42`, string(resp.Kvs[0].Value))

	// Repaired by hand: the watch picks it up.
	_, err = cli.Put(ctx, p+"/groups/bad", `{"Plugin":"group-stateless","Properties":{"ID":"bad"}}`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		cfg, _, err := s.Load(ctx)
		_, ok := cfg.Groups["bad"]
		return err == nil && ok
	}, 5*time.Second, 5*time.Millisecond)
}

func TestStoreFencedSaveRefusedWhenNotLeader(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	first := newLeadership(t, cli, p, "first")
	requireLeader(t, first, 5*time.Second)
	second := newLeadership(t, cli, p, "second")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := second.Check(ctx)
	require.NoError(t, err)
	require.False(t, st.Leader)
	require.Equal(t, "first", st.Holder)

	s := newStore(t, cli, p, second)
	_, err = s.Save(ctx, sourcestest.SampleConfig("x"), "")
	require.ErrorIs(t, err, ErrNotLeader)

	// A stale fence (the key of a leader that is gone) is refused by etcd.
	f, err := first.Fence()
	require.NoError(t, err)
	require.NoError(t, first.Close())
	stale := newStore(t, cli, p, staticFence(f))
	_, err = stale.Save(ctx, sourcestest.SampleConfig("x"), "")
	require.ErrorIs(t, err, ErrNotLeader)
	resp, err := cli.Get(ctx, p+"/groups/x")
	require.NoError(t, err)
	require.Empty(t, resp.Kvs, "a write fenced on a gone leader key was applied")
}

func TestStoreTooManyChangesRefused(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	cfg := sourcestest.SampleConfig()
	for i := range DefaultStoreOptions().MaxTxnOps {
		id := plugin.ID(fmt.Sprintf("g%d", i))
		cfg.Groups[id] = sourcestest.SampleEntry(id)
	}
	_, err := s.Save(etcdtest.Context(t), cfg, "")
	require.ErrorIs(t, err, sources.ErrTooLarge)
	require.ErrorContains(t, err, "--max-txn-ops")
}

func TestStoreUnreachableEtcd(t *testing.T) {
	opts := DefaultClientOptions()
	opts.Endpoints = []string{"http://127.0.0.1:1"}
	cli, err := NewClient(opts)
	require.NoError(t, err)
	defer cli.Close()
	so := DefaultStoreOptions()
	so.CallTimeout, so.Log = 100*time.Millisecond, testLog(t)
	s, err := NewStore(cli, so)
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err = s.Load(ctx)
	require.ErrorIs(t, err, ErrNotReady)
	ctx, cancel = context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.ErrorIs(t, err, ErrNotReady)
	require.ErrorContains(t, err, "127.0.0.1:1", "the listing error is reported")
}

// staticFence always returns one fence, as a leader whose local check was
// bypassed would.
type staticFence Fence

func (f staticFence) Fence() (Fence, error) { return Fence(f), nil }

package etcd

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// proxiedClient returns the proxies in front of the shared lab's members
// and a function that opens a store on a prefix through them.
func proxiedClient(t *testing.T) ([]*etcdtest.FreezeProxy, func(prefix string) *Store) {
	t.Helper()
	lab := sharedLab(t)
	var ps []*etcdtest.FreezeProxy
	var urls []string
	for _, ep := range lab.Endpoints(t) {
		p, err := etcdtest.NewFreezeProxy(strings.TrimPrefix(ep, "http://"))
		require.NoError(t, err)
		t.Cleanup(p.Close)
		ps = append(ps, p)
		urls = append(urls, p.URL())
	}
	opts := DefaultClientOptions()
	opts.Endpoints = urls
	cli, err := NewClient(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	open := func(prefix string) *Store { return newStore(t, cli, prefix, nil) }
	return ps, open
}

// TestStoreCurrentCatchesUpPastAHeldWatch: with the store's watch stream
// held (unary calls pass), writes made elsewhere are missing from the
// cache; Current(rev) says so, brings the cache to rev by a linearizable
// re-list, and calls wake; Load then holds the writes, deletes included.
func TestStoreCurrentCatchesUpPastAHeldWatch(t *testing.T) {
	proxies, open := proxiedClient(t)
	direct := newClient(t)
	p := testPrefix(t, direct)
	writer := newStore(t, direct, p, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := writer.Save(ctx, sourcestest.SampleConfig("keep"), "")
	require.NoError(t, err)
	s := open(p)
	require.Eventually(t, func() bool {
		cfg, _, err := s.Load(ctx)
		return err == nil && len(cfg.Groups) == 1
	}, 10*time.Second, 10*time.Millisecond)
	// The second group reaches s only through its watch (it has listed
	// already): once it shows, the watch stream's response headers have
	// passed the proxy. Holding streams before that would hold those
	// headers and, HPACK being ordered, every frame behind them on the
	// connection: unary calls too, which is not the case under test.
	v, err = writer.Save(ctx, sourcestest.SampleConfig("keep", "doomed"), v)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		cfg, _, err := s.Load(ctx)
		return err == nil && len(cfg.Groups) == 2
	}, 10*time.Second, 10*time.Millisecond)

	for _, px := range proxies {
		px.HoldStreams()
	}
	defer func() {
		for _, px := range proxies {
			px.ReleaseStreams()
		}
	}()
	cfg := sourcestest.SampleConfig("keep", "fresh")
	_, err = writer.Save(ctx, cfg, v)
	require.NoError(t, err)
	resp, err := direct.Get(ctx, "any")
	require.NoError(t, err)
	rev := resp.Header.Revision

	var woken atomic.Int64
	wake := func() { woken.Add(1) }
	require.False(t, s.Current(rev, wake), "a held watch cannot be current")
	require.Eventually(t, func() bool { return woken.Load() > 0 && s.Current(rev, wake) }, 10*time.Second, 10*time.Millisecond,
		"the view never caught up")
	got, _, err := s.Load(ctx)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, cfg, got)
}

// TestStoreCurrentByCount: a cache that already holds every write (a
// pending destroy included) is found current by the linearizable count
// alone, without listing again.
func TestStoreCurrentByCount(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	s := newStore(t, cli, p, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := sourcestest.SampleConfig("a")
	cfg.Destroying = sourcestest.SampleConfig("gone").Groups
	_, err := s.Save(ctx, cfg, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { // the watch delivers the Save: the cache's revision reaches it
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.c.seen >= s.c.rev
	}, 5*time.Second, 10*time.Millisecond)
	_, err = cli.Put(ctx, p+"/unrelated", "moves the revision on")
	require.NoError(t, err)
	resp, err := cli.Get(ctx, "any")
	require.NoError(t, err)
	var woken atomic.Int64
	require.Eventually(t, func() bool { return s.Current(resp.Header.Revision, func() { woken.Add(1) }) }, 5*time.Second, 10*time.Millisecond)
	_, _, err = s.Load(ctx)
	require.NoError(t, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Equal(t, 3, s.c.keyCount(), "a group, a pending destroy and the version key")
}

// staticView is a View a test opens and closes.
type staticView struct{ current atomic.Bool }

func (v *staticView) Current(int64, func()) bool { return v.current.Load() }

// TestLeadershipWaitsForTheView: a won election is "unknown" (ErrViewBehind)
// until the view is current, then "leader".
func TestLeadershipWaitsForTheView(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	l := newLeadership(t, cli, p, "m1")
	v := &staticView{}
	l.SetView(v)
	require.Eventually(t, func() bool {
		_, _, _, err := check(t, l)
		return err != nil && strings.Contains(err.Error(), ErrViewBehind.Error())
	}, 5*time.Second, 10*time.Millisecond)
	v.current.Store(true)
	requireLeader(t, l, 5*time.Second)
	var _ sources.Leadership = l
}

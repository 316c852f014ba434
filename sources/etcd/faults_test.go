package etcd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// TestWipedMemberRejoins: one member is replaced by an empty one (data dir
// deleted, member remove and add). The manager keeps leading and
// committing, and the rejoined member serves every group.
func TestWipedMemberRejoins(t *testing.T) {
	cli := newClient(t)
	lab := sharedLab(t)
	p := testPrefix(t, cli)
	l := newLeadership(t, cli, p, "m1", func(o *LeadershipOptions) { o.LeaseDuration = 5 * time.Second })
	requireLeader(t, l, 5*time.Second)
	f, err := l.Fence()
	require.NoError(t, err)
	s := newStore(t, cli, p, l)
	ctx := etcdtest.Context(t)
	add := func(id plugin.ID) error {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, _, err := sources.Update(wctx, s, func(c *sources.Config) error {
			c.Groups[id] = sourcestest.SampleEntry(id)
			return nil
		})
		return err
	}
	for i := range 20 {
		require.NoError(t, add(plugin.ID(fmt.Sprintf("before%d", i))))
	}

	wiped := 1 + lab.Leader(t)%lab.N() // a follower member
	lab.Wipe(t, wiped)
	require.Eventually(t, func() bool { return add("after") == nil }, 10*time.Second, 50*time.Millisecond)
	f2, err := l.Fence()
	require.NoError(t, err, "leadership lost while a member was replaced")
	require.Equal(t, f, f2, "the election key changed")

	opts := DefaultClientOptions()
	opts.Endpoints = []string{lab.Endpoint(t, wiped)}
	only, err := NewClient(opts)
	require.NoError(t, err)
	defer only.Close()
	fresh := newStore(t, only, p, nil)
	cfg, _, err := fresh.Load(ctx)
	require.NoError(t, err)
	require.Len(t, cfg.Groups, 21, "the rejoined member does not serve every group")
}

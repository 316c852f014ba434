package etcd

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func check(t *testing.T, l *Leadership) (leader bool, holder string, expires time.Time, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := l.Check(ctx)
	return st.Leader, st.Holder, st.Expires, err
}

func TestLeadershipGain(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	l := newLeadership(t, cli, p, "m1")
	start := time.Now()
	requireLeader(t, l, 5*time.Second)
	t.Logf("sole candidate leads after %s", time.Since(start).Round(time.Millisecond))
	leader, holder, expires, err := check(t, l)
	require.NoError(t, err)
	require.True(t, leader)
	require.Equal(t, "m1", holder)
	require.True(t, expires.After(time.Now()))
	require.False(t, expires.After(time.Now().Add(2*time.Second)), "Expires beyond the TTL")

	// Renewals move Expires forward.
	require.Eventually(t, func() bool {
		_, _, e, err := check(t, l)
		return err == nil && e.After(expires)
	}, 3*time.Second, 20*time.Millisecond)

	resp, err := cli.Get(context.Background(), p+"/election/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Equal(t, "m1", string(resp.Kvs[0].Value))
}

func TestLeadershipHandoverOnClose(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	a := newLeadership(t, cli, p, "a")
	requireLeader(t, a, 5*time.Second)
	b := newLeadership(t, cli, p, "b")
	var pokes atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = b.Watch(ctx, func() { pokes.Add(1) }) }()
	require.Eventually(t, func() bool {
		leader, holder, _, err := check(t, b)
		return err == nil && !leader && holder == "a"
	}, 5*time.Second, 10*time.Millisecond)

	before := pokes.Load()
	start := time.Now()
	require.NoError(t, a.Close())
	requireLeader(t, b, 5*time.Second)
	t.Logf("clean handover (Close revokes the lease): %s", time.Since(start).Round(time.Millisecond))
	require.Greater(t, pokes.Load(), before, "Watch did not poke on the change")
	leader, _, _, err := check(t, a)
	require.Error(t, err, "a closed candidate must not answer")
	require.False(t, leader)
}

func TestLeadershipLostOnRevokedSession(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	l := newLeadership(t, cli, p, "m1")
	var pokes atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = l.Watch(ctx, func() { pokes.Add(1) }) }()
	requireLeader(t, l, 5*time.Second)
	old, err := l.Fence()
	require.NoError(t, err)

	resp, err := cli.Get(ctx, old.Key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	before := pokes.Load()
	_, err = cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		f, err := l.Fence()
		return (err != nil || f != old) && pokes.Load() > before
	}, 3*time.Second, 5*time.Millisecond, "revoked session not noticed")
	stale := newStore(t, cli, p, staticFence(old))
	_, err = stale.Save(ctx, sourcestest.SampleConfig("x"), "")
	require.ErrorIs(t, err, ErrNotLeader)

	// It campaigns again with a new lease and, alone, leads again.
	requireLeader(t, l, 5*time.Second)
	f, err := l.Fence()
	require.NoError(t, err)
	require.NotEqual(t, old, f)
	s := newStore(t, cli, p, l)
	_, err = s.Save(ctx, sourcestest.SampleConfig("x"), "")
	require.NoError(t, err)
}

func TestLeadershipExpiresHonoured(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	l := newLeadership(t, cli, p, "m1", func(o *LeadershipOptions) { o.Clock = clk })
	requireLeader(t, l, 5*time.Second)
	leader, _, expires, err := check(t, l)
	require.NoError(t, err)
	require.True(t, leader)
	require.Equal(t, clk.Now().Add(2*time.Second-2*time.Second/12), expires, "deadline = send time + TTL − margin")

	clk.SetTime(expires.Add(-time.Millisecond))
	leader, _, _, err = check(t, l)
	require.NoError(t, err)
	require.True(t, leader)

	clk.SetTime(expires) // no renewal can have moved it: the fake clock stood still at every send
	leader, _, _, err = check(t, l)
	require.ErrorIs(t, err, ErrLeaseExpired)
	require.False(t, leader)
	_, err = l.Fence()
	require.ErrorIs(t, err, ErrNotLeader)
	s := newStore(t, cli, p, l)
	_, err = s.Save(etcdtest.Context(t), sourcestest.SampleConfig("x"), "")
	require.ErrorIs(t, err, ErrNotLeader)
}

func TestLeadershipUnreachableEtcd(t *testing.T) {
	opts := DefaultClientOptions()
	opts.Endpoints = []string{"http://127.0.0.1:1"}
	cli, err := NewClient(opts)
	require.NoError(t, err)
	defer cli.Close()
	lo := DefaultLeadershipOptions()
	lo.Name, lo.Log = "m1", testLog(t)
	l, err := NewLeadership(cli, lo)
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	st, err := l.Check(ctx)
	require.Error(t, err)
	require.False(t, st.Leader)
}

func TestLeadershipOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*LeadershipOptions)
		want string
	}{
		{"blank name", func(o *LeadershipOptions) { o.Name = " " }, "Name must not be blank"},
		{"fractional lease", func(o *LeadershipOptions) { o.LeaseDuration = 2500 * time.Millisecond }, "LeaseDuration must be a whole number of seconds"},
		{"short lease", func(o *LeadershipOptions) { o.LeaseDuration = time.Second }, "LeaseDuration must be"},
		{"bad prefix", func(o *LeadershipOptions) { o.Prefix = "infrakit/" }, `Prefix "infrakit/" must start with '/'`},
		{"slow calls", func(o *LeadershipOptions) { o.CallTimeout = 3 * time.Second }, "CallTimeout must be > 0 and at most a third of LeaseDuration"},
		{"wide margin", func(o *LeadershipOptions) { o.SafetyMargin = 3 * time.Second }, "SafetyMargin must be in [0, LeaseDuration/2)"},
		{"no clock", func(o *LeadershipOptions) { o.Clock = nil }, "Clock must not be nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultLeadershipOptions()
			o.Name = "m1"
			tc.mod(&o)
			err := o.Validate()
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), tc.want), err.Error())
		})
	}
	o := DefaultLeadershipOptions()
	o.Name = "m1"
	before := o
	require.NoError(t, o.Validate())
	require.Equal(t, before, o, "Validate changes nothing")
	require.Equal(t, 5*time.Second/12, o.scaled().SafetyMargin)
	o.LeaseDuration, o.CallTimeout = 2*time.Second, 0
	require.NoError(t, o.Validate())
	require.Equal(t, 2*time.Second/3, o.scaled().CallTimeout, "a zero CallTimeout scales with the lease")
}

// TestLeadershipResign: Resign makes a leader answer "not leader" (with its
// reason) while its key still blocks the rival; Close then hands over.
func TestLeadershipResign(t *testing.T) {
	cli := newClient(t)
	p := testPrefix(t, cli)
	a := newLeadership(t, cli, p, "a")
	requireLeader(t, a, 5*time.Second)
	b := newLeadership(t, cli, p, "b")
	_, _, _, err := check(t, b) // b campaigns from its first check
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := a.Rivals(context.Background())
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond)

	a.Resign()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := a.Check(ctx)
	require.NoError(t, err)
	require.False(t, st.Leader)
	require.Contains(t, st.Reason, "handing over")
	_, err = a.Fence()
	require.ErrorIs(t, err, ErrNotLeader)
	leader, holder, _, err := check(t, b)
	require.NoError(t, err)
	require.False(t, leader, "the rival leads before the resigned leader's key is gone")
	require.Equal(t, "a", holder)

	require.NoError(t, a.Close())
	requireLeader(t, b, 5*time.Second)
}

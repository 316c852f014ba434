package etcd

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// TestLeadershipContract runs the shared leadership contract on a real
// cluster. The subject "me" leads when its rival is gone and follows when
// the rival holds the election: Set(false) starts the rival and revokes the
// subject's session if it leads (it campaigns again, behind the rival);
// Set(true) closes the rival, which revokes its lease.
func TestLeadershipContract(t *testing.T) {
	sourcestest.RunLeadershipContract(t, func(t *testing.T) sourcestest.LeadershipFixture {
		cli := newClient(t)
		p := testPrefix(t, cli)
		me := newLeadership(t, cli, p, "me")
		var rival *Leadership
		holder := func() string {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			st, err := me.Check(ctx)
			if err != nil {
				return ""
			}
			return st.Holder
		}
		set := func(leader bool) {
			if leader {
				if rival != nil {
					require.NoError(t, rival.Close())
					rival = nil
				}
				requireLeader(t, me, 10*time.Second)
				return
			}
			if rival == nil {
				rival = newLeadership(t, cli, p, "rival")
				rival.start() // campaign now, not at the first Check
			}
			me.start()
			require.Eventually(t, func() bool {
				if holder() == "rival" {
					return true
				}
				if f, err := me.Fence(); err == nil { // it leads: end its session
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					if resp, err := cli.Get(ctx, f.Key); err == nil && len(resp.Kvs) == 1 {
						_, _ = cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
					}
				}
				return false
			}, 10*time.Second, 20*time.Millisecond, "the rival never led")
		}
		return sourcestest.LeadershipFixture{L: me, Set: set}
	})
}

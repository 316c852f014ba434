package etcd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLeadershipQuorumOutage: two of three members paused past the local
// deadline: the leader steps down saying "quorum lost", and once quorum is
// back its lease is revoked as soon as etcd answers, so the rival leads
// without waiting for the old lease to expire (etcd re-arms every lease for
// a full TTL when it elects a new Raft leader).
func TestLeadershipQuorumOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("pauses etcd members")
	}
	lab := sharedLab(t)
	cli := newClient(t)
	p := testPrefix(t, cli)
	five := func(o *LeadershipOptions) { o.LeaseDuration, o.CallTimeout = 5*time.Second, time.Second }
	a := newLeadership(t, cli, p, "a", five)
	requireLeader(t, a, 10*time.Second)
	b := newLeadership(t, cli, p, "b", five)
	require.Eventually(t, func() bool {
		_, holder, _, err := check(t, b)
		return err == nil && holder == "a"
	}, 10*time.Second, 10*time.Millisecond)

	paused := []int{1, 2}
	for _, i := range paused {
		lab.Pause(t, i)
	}
	resumed := false
	resume := func() {
		if !resumed {
			for _, i := range paused {
				lab.Resume(t, i)
			}
			resumed = true
		}
	}
	defer resume()
	var reason string
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		st, err := a.Check(ctx)
		reason = st.Reason
		return err == nil && !st.Leader && st.Reason != ""
	}, 15*time.Second, 20*time.Millisecond, "the leader did not step down without quorum")
	t.Logf("leader stepped down without quorum, reason %q", reason)
	require.True(t, strings.Contains(reason, "quorum lost") || strings.Contains(reason, "renewal timed out"), reason)

	back := time.Now()
	resume()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		sa, ea := a.Check(ctx)
		sb, eb := b.Check(ctx)
		return (ea == nil && sa.Leader) || (eb == nil && sb.Leader)
	}, 30*time.Second, 20*time.Millisecond, "nobody leads after quorum is back")
	t.Logf("quorum back: a candidate leads after %s (lease 5s)", time.Since(back).Round(time.Millisecond))
}

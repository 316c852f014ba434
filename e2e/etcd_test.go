package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

// etcdLease is the managers' --lease-duration in these tests (the default).
const etcdLease = 5 * time.Second

// TestEtcd runs etcd-mode scenarios against one real 3-member etcd cluster
// (hack/etcd-lab.sh through etcdtest): three nodes, each with its own
// downstream and an infrakit-manager in etcd mode on its own prefix per
// scenario. Without etcd the test is skipped, except under CI=true.
func TestEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts an etcd cluster and real processes")
	}
	etcdtest.RequireEtcd(t)
	for _, name := range []string{"infrakit-manager", "infrakit-group-sim", "infrakit"} {
		binary(t, name)
	}
	lab := etcdtest.StartLab(t, 3)
	scenarios := []struct {
		name string
		fn   func(t *testing.T, lab *etcdtest.Lab)
	}{
		{"commit ls describe free through the leader", etcdCommitOnTheLeader},
		{"kill -9 of the leading manager", etcdKillTheLeader},
		{"SIGSTOP of the leading manager past its lease", etcdFreezeTheLeader},
		{"kill -9 of the etcd Raft leader member", etcdKillTheRaftLeader},
		{"leader cut off from etcd frees before the new leader commits", etcdCutOffTheLeader},
		{"etcd unreachable at start", etcdUnreachableAtStart},
		{"import strict and idempotent", etcdImportStrict},
		{"sub-TTL freeze of the leader keeps the term", etcdSubTTLFreeze},
		{"delay on the leader hands over", etcdDelayOnTheLeader},
		{"compacted frozen follower wins on a current view", etcdCompactedFrozenFollowerWins},
		{"lagging streams at the new leader", etcdLaggingStreamsAtNewLeader},
		{"SIGTERM of the leader hands over without overlap", etcdSigtermHandover},
		{"slow link to the leader keeps the term", etcdSlowLinkKeepsTheTerm},
		{"a pending destroy survives kill -9 of the leader", etcdPendingDestroyAcrossAKill},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			begin := time.Now()
			s.fn(t, lab)
			t.Logf("scenario took %s", time.Since(begin).Round(time.Millisecond))
		})
	}
}

// etcdCluster is one scenario's three nodes on the shared lab, on a prefix
// of their own.
type etcdCluster struct {
	t      *testing.T
	lab    *etcdtest.Lab
	oc     *osCluster
	cli    *clientv3.Client
	prefix string
	nodes  []*swarmNode // the swarm helpers (commit, refuses, lists) are mode-neutral
	// proxies[i-1] stand between node i's manager and each member.
	proxies [][]*etcdtest.FreezeProxy
}

func newEtcdCluster(t *testing.T, lab *etcdtest.Lab) *etcdCluster {
	t.Helper()
	root := shortTempDir(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: lab.Endpoints(t), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	c := &etcdCluster{t: t, lab: lab, oc: &osCluster{t: t, root: root}, cli: cli,
		prefix: fmt.Sprintf("/e2e/%d", time.Now().UnixNano())}
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i))
		require.NoError(t, os.Mkdir(dir, 0o700))
		n := &swarmNode{
			osNode: &osNode{c: c.oc, name: nameA, dir: dir, events: filepath.Join(root, fmt.Sprintf("n%d.events", i))},
			i:      i,
		}
		n.startSim()
		c.nodes = append(c.nodes, n)
		var ps []*etcdtest.FreezeProxy
		for _, ep := range lab.Endpoints(t) {
			p, err := etcdtest.NewFreezeProxy(strings.TrimPrefix(ep, "http://"))
			require.NoError(t, err)
			t.Cleanup(p.Close)
			ps = append(ps, p)
		}
		c.proxies = append(c.proxies, ps)
		c.startManager(n)
	}
	return c
}

// startManager starts node n's etcd-mode manager, candidate "n<i>",
// talking to the cluster through its own proxies.
func (c *etcdCluster) startManager(n *swarmNode) {
	t := c.t
	t.Helper()
	var eps []string
	for _, p := range c.proxies[n.i-1] {
		eps = append(eps, p.URL())
	}
	args := []string{"--name", n.name, "--plugin-dir", n.dir, "--resync-interval", "1s",
		"etcd", "--endpoints", strings.Join(eps, ","), "--prefix", c.prefix,
		"--candidate", fmt.Sprintf("n%d", n.i), "--lease-duration", etcdLease.String()}
	n.mgr = startProc(t, binary(t, "infrakit-manager"), nil, args...)
	waitSocket(t, n.socket(), n.mgr)
}

// leader waits until the election names a live node, and returns it.
func (c *etcdCluster) leader(except ...*swarmNode) *swarmNode {
	c.t.Helper()
	var found *swarmNode
	require.Eventually(c.t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := c.cli.Get(ctx, c.prefix+"/election/", clientv3.WithFirstCreate()...)
		if err != nil || len(resp.Kvs) == 0 {
			return false
		}
		for _, n := range c.nodes {
			if string(resp.Kvs[0].Value) == fmt.Sprintf("n%d", n.i) {
				for _, e := range except {
					if e == n {
						return false
					}
				}
				found = n
				return true
			}
		}
		return false
	}, 3*etcdLease, tick, "no leader in the election")
	// The election names it; wait until its manager has taken that in (its
	// lease renews every poll interval, and a loaded machine is slow).
	mgr := groupClient(c.t, found.socket())
	require.Eventually(c.t, func() bool {
		ok, err := mgr.IsLeader(etcdtest.Context(c.t))
		return err == nil && ok
	}, 3*etcdLease, tick, "node %d holds the election but its manager does not lead", found.i)
	return found
}

func (c *etcdCluster) others(n *swarmNode) []*swarmNode {
	var out []*swarmNode
	for _, o := range c.nodes {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

// runsOnly waits until leader's downstream runs exactly groups and the
// downstreams of the nodes in idle run nothing.
func (c *etcdCluster) runsOnly(leader *swarmNode, idle []*swarmNode, within time.Duration, groups ...string) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		if !leader.runs(groups...) {
			return false
		}
		for _, n := range idle {
			if !n.runs() {
				return false
			}
		}
		return true
	}, within, 50*time.Millisecond, "node %d must run %v, others nothing", leader.i, groups)
}

func etcdCommitOnTheLeader(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	leader := c.leader()
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	pets := c.oc.writeSpec("pets", petsSpec)
	committed := time.Now()
	for _, f := range c.others(leader) {
		f.refuses(pets)
		// The watched store: visible on followers within one watch event.
		require.Eventually(t, func() bool {
			out, _, exit := f.cli("ls", "-q")
			return exit == 0 && strings.TrimSpace(out) == "cattle"
		}, eventually, 10*time.Millisecond, "ls on node %d", f.i)
		t.Logf("commit on the leader seen by node %d's ls after %s", f.i, time.Since(committed).Round(time.Millisecond))
	}
	out, errOut, exit := leader.cli("describe", "cattle")
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "infrakit.group=cattle,project=infrakit,tier=web")
	c.runsOnly(leader, c.others(leader), eventually, "cattle")

	resp, err := c.cli.Get(etcdtest.Context(t), c.prefix+"/groups/cattle")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Contains(t, string(resp.Kvs[0].Value), `"Plugin":"group-stateless"`)

	_, errOut, exit = leader.cli("free", "cattle")
	require.Equal(t, 0, exit, errOut)
	for _, n := range c.nodes {
		n.lists()
	}
	c.runsOnly(leader, c.others(leader), eventually)
}

func etcdKillTheLeader(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	old := c.leader()
	old.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	c.runsOnly(old, c.others(old), eventually, "cattle")

	killed := time.Now().UnixNano()
	old.mgr.Kill()
	next, committed := committedSince(t, c.others(old), killed, 3*etcdLease, "cattle")
	require.Equal(t, next, c.leader(old))
	t.Logf("kill -9 of the leading manager (lease %s): node %d's manager committed cattle after %s",
		etcdLease, next.i, ms(committed-killed))
	next.lists("cattle")
	next.commit(c.oc.writeSpec("pets", petsSpec), "pets", "Managing 1 instances")
}

func etcdFreezeTheLeader(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	old := c.leader()
	old.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	c.runsOnly(old, c.others(old), eventually, "cattle")

	frozen := time.Now().UnixNano()
	old.mgr.Signal(syscall.SIGSTOP)
	next, committed := committedSince(t, c.others(old), frozen, 3*etcdLease, "cattle")
	time.Sleep(etcdLease / 5) // stay frozen a little past the takeover
	old.mgr.Signal(syscall.SIGCONT)
	freed := old.firstEvent(frozen, "free", "cattle")
	t.Logf("SIGSTOP of the leading manager: node %d committed after %s; the resumed one freed %s after the new commit",
		next.i, ms(committed-frozen), ms(freed-committed))
	require.Greater(t, freed, committed)
	old.refuses(c.oc.writeSpec("pets", petsSpec))
	c.runsOnly(next, c.others(next), eventually, "cattle")
}

func etcdKillTheRaftLeader(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	leader := c.leader()
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	c.runsOnly(leader, c.others(leader), eventually, "cattle")

	member := lab.Leader(t)
	killed := time.Now()
	lab.Kill(t, member)
	defer lab.Start(t, member)
	pets := c.oc.writeSpec("pets", petsSpec)
	require.Eventually(t, func() bool {
		_, _, exit := leader.cli("commit", pets)
		return exit == 0
	}, 10*time.Second, 100*time.Millisecond, "no commit after the etcd Raft leader died")
	t.Logf("kill -9 of etcd Raft leader member %d: the leading manager committed again after %s",
		member, time.Since(killed).Round(time.Millisecond))
	require.Equal(t, leader, c.leader(), "manager leadership moved")
	require.Empty(t, leader.eventsSince(killed.UnixNano(), "free", "cattle"), "the leader freed its groups")
	c.runsOnly(leader, c.others(leader), eventually, "cattle", "pets")
}

// etcdCutOffTheLeader freezes every connection of the leading manager to
// etcd (its proxies stop moving bytes). Its local lease deadline passes
// before the server expires the lease, so it must free its groups strictly
// before another manager commits them: overlap 0, every round.
func etcdCutOffTheLeader(t *testing.T, lab *etcdtest.Lab) {
	const rounds = 3
	for r := 1; r <= rounds; r++ {
		c := newEtcdCluster(t, lab)
		old := c.leader()
		old.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
		c.runsOnly(old, c.others(old), eventually, "cattle")

		cut := time.Now().UnixNano()
		for _, p := range c.proxies[old.i-1] {
			p.Freeze()
		}
		next, committed := committedSince(t, c.others(old), cut, 3*etcdLease, "cattle")
		freed := old.firstEvent(cut, "free", "cattle")
		t.Logf("round %d: leader n%d cut off from etcd: it freed after %s, n%d committed after %s (gap %s)",
			r, old.i, ms(freed-cut), next.i, ms(committed-cut), ms(committed-freed))
		require.Less(t, freed, committed, "round %d: the old leader freed after the new one committed", r)
		old.refuses(c.oc.writeSpec("pets", petsSpec))
		for _, p := range c.proxies[old.i-1] {
			p.Thaw()
		}
		c.runsOnly(next, c.others(next), eventually, "cattle")
	}
}

// etcdUnreachableAtStart: a manager whose etcd is unreachable when it
// starts serves, says why it cannot lead, refuses commits, and once etcd is
// reachable again campaigns and (the others stopped with SIGTERM, which
// revokes their leases) leads and runs the stored groups.
func etcdUnreachableAtStart(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	leader := c.leader()
	leader.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	n := c.others(leader)[0]
	require.Equal(t, 0, n.mgr.Stop())
	for _, p := range c.proxies[n.i-1] {
		p.Freeze()
	}
	c.startManager(n)
	n.refuses(c.oc.writeSpec("pets", petsSpec))
	require.Eventually(t, func() bool {
		return strings.Contains(n.mgr.Stderr(), "etcd store listing failed, retrying") &&
			strings.Contains(n.mgr.Stderr(), "etcd session ended, campaigning again")
	}, eventually, tick, "the manager must say why it cannot reach etcd:\n%s", n.mgr.Stderr())

	for _, p := range c.proxies[n.i-1] {
		p.Thaw()
	}
	for _, o := range c.others(n) {
		require.Equal(t, 0, o.mgr.Stop())
	}
	stopped := time.Now()
	require.Equal(t, n, c.leader())
	c.runsOnly(n, nil, eventually, "cattle")
	t.Logf("etcd reachable again, the others stopped with SIGTERM: n%d leads and runs cattle %s after the last of them exited",
		n.i, time.Since(stopped).Round(time.Millisecond))
}

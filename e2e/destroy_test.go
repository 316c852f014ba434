package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

// Destroy is a durable intent (issue 22): recorded in the store with the
// removal, carried out by whichever manager leads, never turned into a free.

// opCounts counts the node's downstream events since the mark, by op:
// every successful one, and the groups they touched.
func (n *osNode) opCounts(since int64) (ok map[string]int, groups map[string]map[string]bool) {
	n.c.t.Helper()
	ok, groups = map[string]int{}, map[string]map[string]bool{}
	all, err := groupsim.ReadEventFile(n.events)
	if errors.Is(err, fs.ErrNotExist) {
		return ok, groups
	}
	require.NoError(n.c.t, err)
	for _, ev := range all {
		if ev.T < since || !ev.OK {
			continue
		}
		ok[ev.Op]++
		if groups[ev.Op] == nil {
			groups[ev.Op] = map[string]bool{}
		}
		groups[ev.Op][ev.Group] = true
	}
	return ok, groups
}

// storedConfig reads the shared store file.
func (c *osCluster) storedConfig() sources.Config {
	c.t.Helper()
	data, err := os.ReadFile(c.storePath())
	if errors.Is(err, fs.ErrNotExist) {
		return sources.Config{}
	}
	require.NoError(c.t, err)
	cfg, err := sources.DecodeConfig(data)
	require.NoError(c.t, err)
	return cfg
}

// settled reports a store with no groups and no pending destroy.
func (c *osCluster) settled() bool {
	cfg := c.storedConfig()
	return len(cfg.Groups) == 0 && len(cfg.Destroying) == 0
}

// 300 destroys at --resync-interval 1ms: a resync between the store write
// and the destroy used to plan "running downstream, not stored" and free
// the group (13-30 of 300). Every destroy is carried out; none is a free.
func TestDestroyRaceWithAFastResync(t *testing.T) {
	const n = 300
	c := newOSCluster(t, nameA)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "race-" + strings.Repeat("0", 3-len(itoa(i))) + itoa(i)
	}
	c.storeGroups(ids...)
	a := c.node(nameA)
	a.startSim()
	a.startManager("--resync-interval", "1ms")
	require.Eventually(t, func() bool { return a.runs(ids...) }, 3*eventually, tick)
	mark := time.Now().UnixNano()
	cli := groupClient(t, a.socket())
	var answeredOK atomic.Int64
	var wg sync.WaitGroup
	next := make(chan string)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := cli.DestroyGroup(ctx, plugin.ID(id)); err == nil {
					answeredOK.Add(1)
				} else {
					t.Logf("destroy %s: %v", id, err)
				}
				cancel()
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	require.Eventually(t, func() bool { return c.settled() && a.runs() }, 3*eventually, tick, "every destroy carried out")
	ok, groups := a.opCounts(mark)
	t.Logf("destroy race: destroys=%d frees=%d carried=%d answeredOK=%d (resync 1ms)",
		n, ok[groupsim.OpFree], len(groups[groupsim.OpDestroy]), answeredOK.Load())
	require.Zero(t, ok[groupsim.OpFree], "a destroy became a free")
	require.Len(t, groups[groupsim.OpDestroy], n, "every group destroyed downstream")
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// A destroy the downstream keeps failing is recorded in the store; when
// the leader file names another manager, that manager (whose downstream
// never watched the group) commits the stored spec and destroys it.
func TestDestroyPendingAcrossAHandover(t *testing.T) {
	c := newOSCluster(t, nameA)
	a, b := c.node(nameA), c.node(nameB)
	a.startSim("--fail", "DestroyGroup")
	a.startManager("--max-backoff", "200ms")
	b.startSim()
	b.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	_, errOut, exit = a.cli("destroy", "cattle")
	require.NotEqual(t, 0, exit)
	require.Contains(t, errOut, "recorded")
	require.Contains(t, c.storedConfig().Destroying, plugin.ID("cattle"), "the destroy is durable")
	mark := time.Now().UnixNano()
	c.setLeader(nameB)
	require.Eventually(t, c.settled, 3*eventually, tick, "carried out by the next leader")
	bOK, _ := b.opCounts(mark)
	aOK, _ := a.opCounts(mark)
	t.Logf("pending destroy across a handover: carried out by %s (its downstream: commit=%d destroy=%d free=%d); old leader %s destroy=%d",
		nameB, bOK[groupsim.OpCommit], bOK[groupsim.OpDestroy], bOK[groupsim.OpFree], nameA, aOK[groupsim.OpDestroy])
	require.Equal(t, 1, bOK[groupsim.OpDestroy])
	require.Zero(t, bOK[groupsim.OpFree])
	require.True(t, b.runs())
}

// The same across a restart: the manager is stopped while the destroy
// fails, its downstream replaced by one that works; the restarted manager
// carries it out.
func TestDestroyPendingAcrossARestart(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim("--fail", "DestroyGroup")
	a.startManager("--max-backoff", "200ms")
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	_, errOut, exit = a.cli("destroy", "cattle")
	require.NotEqual(t, 0, exit)
	require.Contains(t, errOut, "recorded")
	require.Equal(t, 0, a.mgr.Stop())
	require.Equal(t, 0, a.sim.Stop())
	require.Contains(t, c.storedConfig().Destroying, plugin.ID("cattle"), "the destroy outlives the process")
	mark := time.Now().UnixNano()
	a.startSim()
	a.startManager()
	require.Eventually(t, c.settled, 3*eventually, tick, "carried out after the restart")
	ok, _ := a.opCounts(mark)
	t.Logf("pending destroy across a restart: carried out by %s (restarted; commit=%d destroy=%d free=%d)",
		nameA, ok[groupsim.OpCommit], ok[groupsim.OpDestroy], ok[groupsim.OpFree])
	require.Equal(t, 1, ok[groupsim.OpDestroy])
	require.Zero(t, ok[groupsim.OpFree])
	require.True(t, a.runs())
	require.Contains(t, a.mgr.Stderr(), "committing its last stored spec first")
}

// A commit that missed --call-timeout lands after the destroy: the group
// found running again is destroyed again, never freed.
func TestDestroyAfterALateCommit(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim("--late", "CommitGroup", "--late-by", "1500ms")
	a.startManager("--call-timeout", "500ms", "--max-backoff", "200ms")
	mark := time.Now().UnixNano()
	_, _, _ = a.cli("commit", c.writeSpec("cattle", cattleSpec)) // answered "will be applied": the commit timed out
	_, _, _ = a.cli("destroy", "cattle")
	require.Eventually(t, c.settled, 3*eventually, tick, "the destroy carried out")
	// Every late commit lands within --late-by of its call; wait them out.
	var landed int
	require.Eventually(t, func() bool {
		ok, _ := a.opCounts(mark)
		if ok[groupsim.OpCommit] > landed {
			landed = ok[groupsim.OpCommit]
		}
		return a.runs()
	}, 3*eventually, tick)
	time.Sleep(3 * time.Second) //nolint:forbidigo // late commits land up to --late-by after their call
	require.Eventually(t, func() bool { return a.runs() }, 3*eventually, tick, "destroyed again after a late commit")
	ok, _ := a.opCounts(mark)
	t.Logf("late commit after a destroy: commits landed=%d destroys=%d frees=%d",
		ok[groupsim.OpCommit], ok[groupsim.OpDestroy], ok[groupsim.OpFree])
	require.Zero(t, ok[groupsim.OpFree], "a late commit after a destroy was freed")
	require.GreaterOrEqual(t, ok[groupsim.OpDestroy], 1)
}

// etcd: the destroy is recorded under <prefix>/groups/~destroying/ with the
// removal of the group's key; the leader is killed while its downstream
// fails the destroy, and the next leader carries it out.
func etcdPendingDestroyAcrossAKill(t *testing.T, lab *etcdtest.Lab) {
	c := newEtcdCluster(t, lab)
	old := c.leader()
	require.Equal(t, 0, old.sim.Stop())
	old.startSim("--fail", "DestroyGroup")
	old.commit(c.oc.writeSpec("cattle", cattleSpec), "cattle", "Managing 2 instances")
	c.runsOnly(old, c.others(old), eventually, "cattle")
	_, errOut, exit := old.cli("destroy", "cattle")
	require.NotEqual(t, 0, exit)
	require.Contains(t, errOut, "recorded")
	keyCount := func(key string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := c.cli.Get(ctx, key)
		require.NoError(t, err)
		return len(resp.Kvs)
	}
	pendingKey := c.prefix + "/groups/~destroying/cattle"
	require.Equal(t, 1, keyCount(pendingKey), "the destroy is recorded in etcd")
	require.Zero(t, keyCount(c.prefix+"/groups/cattle"))
	killed := time.Now().UnixNano()
	old.mgr.Kill()
	next := c.leader(old)
	require.Eventually(t, func() bool { return keyCount(pendingKey) == 0 }, 3*etcdLease, tick, "carried out by the next leader")
	ok, _ := next.opCounts(killed)
	t.Logf("pending destroy across kill -9 of the leader (etcd): carried out by node %d (commit=%d destroy=%d free=%d)",
		next.i, ok[groupsim.OpCommit], ok[groupsim.OpDestroy], ok[groupsim.OpFree])
	require.Equal(t, 1, ok[groupsim.OpDestroy])
	require.Zero(t, ok[groupsim.OpFree])
	var idle []*swarmNode // the killed node's downstream keeps what it ran: nobody freed it
	for _, n := range c.others(next) {
		if n != old {
			idle = append(idle, n)
		}
	}
	c.runsOnly(next, idle, eventually)
}

// --once with a pending destroy the downstream fails: exit 1, the record
// kept; once the downstream works: carried out (watched first), exit 0.
func TestDestroyPendingWithOnce(t *testing.T) {
	c := newOSCluster(t, nameA)
	whole, err := json.Marshal(faultSpec("cattle"))
	require.NoError(t, err)
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{},
		Destroying: map[plugin.ID]sources.Entry{"cattle": {Plugin: downstream, Properties: whole}}}
	data, err := sources.EncodeConfig(cfg)
	require.NoError(t, err)
	writeFileAtomic(t, c.storePath(), data)
	a := c.node(nameA)
	a.startSim("--fail", "DestroyGroup")
	began := time.Now()
	out, errOut, exit := runManagerOnce(t, append([]string{"--once"}, a.managerArgs()...)...)
	t.Logf("--once with a pending destroy the downstream fails: exit=%d after %s", exit, time.Since(began).Round(time.Millisecond))
	require.Equal(t, 1, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, c.storedConfig().Destroying, plugin.ID("cattle"))
	require.Equal(t, 0, a.sim.Stop())
	a.startSim()
	out, errOut, exit = runManagerOnce(t, append([]string{"--once"}, a.managerArgs()...)...)
	require.Equal(t, 0, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.True(t, c.settled())
	require.True(t, a.runs())
}

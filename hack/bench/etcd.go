package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/infrakit-manager/manager/internal/labscript"
	"github.com/infrakit-manager/manager/sources/etcd"
)

const (
	// etcdMembers is the lab's number of etcd members.
	etcdMembers = 3
	// etcdGroup is the group the fault rounds run.
	etcdGroup = "eg"
	// etcdMgrName is every etcd-mode manager's --name (each in a plugin
	// directory of its own).
	etcdMgrName = "group"
	// etcdMinTime is the least time left in the run for the etcd section.
	etcdMinTime = 2 * time.Minute
	// etcdEventWait bounds waits that involve no lease expiry.
	etcdEventWait = 20 * time.Second
	// etcdDelay is the one-way delay of the delay rounds: a round trip
	// (1.2 s) misses the default --etcd-timeout (1 s).
	etcdDelay = 600 * time.Millisecond
	// etcdProbeEvery is how often a commit is started while etcd recovers.
	etcdProbeEvery = 50 * time.Millisecond
	// etcdServiceWait bounds the wait for service after a member is killed.
	etcdServiceWait = 30 * time.Second
	// etcdSmallStore is the small store of the commit comparison.
	etcdSmallStore = 10
	// etcdSplitSamples is the number of in-process store samples per count.
	etcdSplitSamples = 30
)

// Goals of issue 12 (etcd mode).
const (
	// etcdServiceGoal: commits succeed again this soon after the etcd Raft
	// leader member is killed.
	etcdServiceGoal = 5 * time.Second
	// etcdCommitGoal: p50 of a commit, 1 client, 10 and 10,000 groups stored.
	etcdCommitGoal = 10 * time.Millisecond
	// etcdCommitGrowth: the 10,000-group p50 is at most this much above the
	// 10-group p50.
	etcdCommitGrowth = 0.20
	// etcdTakeoverGoal: takeover of 10,000 stored groups.
	etcdTakeoverGoal = 2 * time.Second
)

// Measures of the etcd section, as its rows name them.
const (
	etcdMeasure         = "etcd mode: failover, cut-off leader, Raft leader loss, commits and takeover on a 3-member etcd cluster"
	etcdMeasureKill     = "etcd: kill -9 of the leading manager to another manager's first commit (default lease)"
	etcdMeasureCut      = "etcd: leader cut off from etcd (its connections frozen): old leader's free before the new leader's commit"
	etcdMeasureDelay    = "etcd: 0.6 s one-way delay on the leading manager's connections: time with no leader (old leader's free to the new leader's commit)"
	etcdMeasureRaft     = "etcd: kill -9 of the etcd Raft leader member, probing commits through the leading manager"
	etcdMeasureTakeover = "etcd: takeover of 10000 stored groups with --on-stop keep (SIGTERM of the leader to the new leader's last commit)"
	etcdMeasureHandover = "etcd: handover of 10000 stored groups with the default --on-stop free (SIGTERM of the leader: its frees, then the new leader's commits)"
)

// Anchors beside the etcd rows (issue 12).
const (
	etcdOrigKill     = "swarm mode here 10-17.6 s; client-go defaults 13-24 s"
	etcdOrigCut      = "client-go documents no fencing"
	etcdOrigHandover = "before issue 18 (and with --on-stop keep): the new leader commits while the old downstream still runs every group"
	etcdOrigDelay    = "before issue 18: nobody led for the whole fault (27, 17, 17, 17 s)"
	etcdOrigCommit   = "os mode's file store here: 99 ms at 10,000"
)

// etcdCommitMeasure names the commit row with count groups stored.
func etcdCommitMeasure(count int) string {
	return fmt.Sprintf("etcd: commit latency, 1 client, through the manager holding %d groups", count)
}

// etcdSplitMeasure names the in-process split row with count groups stored.
func etcdSplitMeasure(count int) string {
	return fmt.Sprintf("etcd: one commit's store work in-process, %d groups stored (unfenced etcd.Store)", count)
}

// etcdSkip returns why the etcd section cannot run here, or "".
func (h *harness) etcdSkip(ctx context.Context) string {
	if h.opts.Etcd == sectionOff {
		return "disabled (--etcd off)"
	}
	for _, tool := range []string{"etcd", "etcdctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not installed (hack/etcd-lab.sh install)"
		}
	}
	if _, err := os.Stat(h.opts.EtcdLab); err != nil {
		return fmt.Sprintf("etcd lab script: %v", err)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < etcdMinTime {
		return fmt.Sprintf("less than %s left of the run's time limit", etcdMinTime)
	}
	return ""
}

// etcd: a 3-member lab (hack/etcd-lab.sh under the run's directory, taken
// down at the end). Three managers behind proxies of their own run the
// fault rounds on one prefix; then managers on two other prefixes, holding
// 10 and 10,000 imported groups, run the commit comparison and the
// takeover. A part that fails is reported as such and the next one runs.
func (h *harness) etcd(ctx context.Context) ([]row, error) {
	upStart := time.Now()
	l, down, err := h.etcdLabUp(ctx, "etcd")
	defer down()
	if err != nil {
		return nil, err
	}
	out, err := l.run(ctx, 10*time.Second, "endpoints")
	if err != nil {
		return nil, err
	}
	endpoints := strings.Split(out, ",")
	h.log.Info("etcd lab up", "took", ms(time.Since(upStart)), "endpoints", out)

	var rows []row
	for _, part := range []struct {
		measure string
		run     func(context.Context, etcdLab, []string) ([]row, error)
	}{
		{etcdMeasureKill + "; cut off; Raft leader loss", h.etcdFaults},
		{etcdCommitMeasure(takeoverGoalGroups) + "; takeover", func(ctx context.Context, _ etcdLab, eps []string) ([]row, error) {
			return h.etcdStored(ctx, eps)
		}},
	} {
		r, err := part.run(ctx, l, endpoints)
		rows = append(rows, r...)
		if err != nil {
			h.log.Error(err, "etcd part failed", "part", part.measure)
			h.failed = append(h.failed, fmt.Errorf("etcd: %w", err))
			rows = append(rows, failRow(part.measure, err))
		}
		h.procs.closeAll()
	}
	return rows, nil
}

// etcdFaults runs the three fault series on three managers behind proxies.
func (h *harness) etcdFaults(ctx context.Context, l etcdLab, endpoints []string) ([]row, error) {
	cli, err := newEtcdClient(endpoints)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	c := &etcdFaultCluster{h: h, lab: l, cli: cli, prefix: "/bench/faults",
		lease: etcd.DefaultLeadershipOptions().LeaseDuration, gen: 1}
	for i := 1; i <= etcdMembers; i++ {
		n, err := h.etcdNodeOf(ctx, endpoints, c.prefix, fmt.Sprintf("ef%d", i), true)
		if err != nil {
			return nil, err
		}
		defer n.stop()
		c.nodes = append(c.nodes, n)
	}
	lead, err := c.leader(ctx)
	if err != nil {
		return nil, err
	}
	since := time.Now().UnixNano()
	if err := commitWhenLeading(ctx, lead.socket(), etcdGroup); err != nil {
		return nil, err
	}
	if _, err := lead.events.waitFirst(ctx, match{since: since, op: "commit", group: etcdGroup}, etcdEventWait); err != nil {
		return nil, err
	}
	var rows []row
	kill, err := c.killRounds(ctx)
	if err != nil {
		return rows, err
	}
	rows = append(rows, kill)
	cut, err := c.cutRounds(ctx)
	if err != nil {
		return rows, err
	}
	rows = append(rows, cut...)
	raft, err := c.raftRounds(ctx)
	if err != nil {
		return rows, err
	}
	rows = append(rows, raft)
	delay, err := c.delayRounds(ctx)
	if err != nil {
		return rows, err
	}
	return append(rows, delay), nil
}

// etcdLabUp starts a 3-member etcd lab (hack/etcd-lab.sh) under the run's
// directory name. down takes it down even when ctx is done (the lab must
// not outlive the run); call it also when up failed.
func (h *harness) etcdLabUp(ctx context.Context, name string) (l etcdLab, down func(), err error) {
	down = func() {}
	script, err := filepath.Abs(h.opts.EtcdLab)
	if err != nil {
		return l, down, err
	}
	labDir := filepath.Join(h.root, name)
	l = etcdLab{lab{Script: labscript.Script{Path: script, Env: []string{"LAB=" + labDir}}, n: etcdMembers}}
	down = func() {
		if _, err := l.run(context.Background(), time.Minute, "down"); err != nil {
			h.log.Error(err, "etcd lab down failed", "path", labDir)
		}
	}
	_, err = l.run(ctx, time.Minute, "up", strconv.Itoa(etcdMembers))
	return l, down, err
}

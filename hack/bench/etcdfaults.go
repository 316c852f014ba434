package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/plugin"
)

// etcdFaultCluster is the three managers of the fault rounds, each behind
// proxies of its own, on one prefix, running etcdGroup.
type etcdFaultCluster struct {
	h      *harness
	lab    etcdLab
	cli    *clientv3.Client
	prefix string
	nodes  []*etcdNode
	lease  time.Duration
	gen    int // the generation of the next probe commit
}

// leader waits until a node leads the election and returns it.
func (c *etcdFaultCluster) leader(ctx context.Context) (*etcdNode, error) {
	return waitHolder(ctx, c.cli, c.prefix, c.nodes, 3*c.lease)
}

// killRounds: each round kills -9 the leading manager and times the first
// commit of etcdGroup by another node's simulator; then the killed manager
// is started again (it follows and frees the group on its simulator).
func (c *etcdFaultCluster) killRounds(ctx context.Context) (row, error) {
	var took []time.Duration
	for round := range c.h.opts.EtcdRounds {
		lead, err := c.leader(ctx)
		if err != nil {
			return row{}, err
		}
		t0 := time.Now().UnixNano()
		if err := lead.kill(); err != nil {
			return row{}, err
		}
		committed, err := waitAny(ctx, eventLogs(others(c.nodes, lead)), match{since: t0, op: "commit", group: etcdGroup}, 4*c.lease)
		if err != nil {
			return row{}, fmt.Errorf("kill round %d: %w", round+1, err)
		}
		took = append(took, time.Duration(committed-t0))
		c.h.log.Info("etcd kill round done", "round", round+1, "toCommit", ms(took[len(took)-1]))
		restarted := time.Now().UnixNano()
		if err := c.h.startEtcdManager(ctx, lead); err != nil {
			return row{}, err
		}
		if _, err := lead.events.waitFirst(ctx, match{since: restarted, op: "free", group: etcdGroup}, etcdEventWait); err != nil {
			return row{}, fmt.Errorf("kill round %d: the restarted follower did not free its group: %w", round+1, err)
		}
	}
	s := summarize(took)
	goal := c.lease + time.Second
	return goalRow(etcdMeasureKill, fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(s.P50), ms(s.P99), ms(s.Max), s.N),
		"p99 ≤ TTL + 1 s ("+ms(goal)+")", s.P99 <= goal, etcdOrigKill), nil
}

// cutRounds: each round freezes every connection of the leading manager to
// etcd (its proxies stop moving bytes) and reads, from the event logs, when
// it freed etcdGroup and when another node committed it; then thaws.
func (c *etcdFaultCluster) cutRounds(ctx context.Context) ([]row, error) {
	var frees, commits, gaps []time.Duration
	clean := 0
	for round := range c.h.opts.EtcdRounds {
		lead, err := c.leader(ctx)
		if err != nil {
			return nil, err
		}
		t0 := time.Now().UnixNano()
		lead.freeze(false)
		committed, err := waitAny(ctx, eventLogs(others(c.nodes, lead)), match{since: t0, op: "commit", group: etcdGroup}, 4*c.lease)
		if err != nil {
			lead.freeze(true)
			return nil, fmt.Errorf("cut round %d: %w", round+1, err)
		}
		freed, err := lead.events.waitFirst(ctx, match{since: t0, op: "free", group: etcdGroup}, etcdEventWait)
		lead.freeze(true)
		if err != nil {
			return nil, fmt.Errorf("cut round %d: the cut-off leader never freed its group: %w", round+1, err)
		}
		if freed < committed {
			clean++
		}
		frees = append(frees, time.Duration(freed-t0))
		commits = append(commits, time.Duration(committed-t0))
		gaps = append(gaps, time.Duration(committed-freed))
		c.h.log.Info("etcd cut round done", "round", round+1, "free", ms(time.Duration(freed-t0)),
			"commit", ms(time.Duration(committed-t0)))
		// The thawed manager finds its session gone and follows; let it
		// reconnect before the next round cuts the new leader.
		if err := sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	g, f, k := summarize(gaps), summarize(frees), summarize(commits)
	n := len(gaps)
	return []row{
		goalRow(etcdMeasureCut,
			fmt.Sprintf("%d of %d rounds freed first; free to new commit: %s", clean, n, signedSummary(g)),
			"overlap 0: free strictly before the commit, every round", clean == n, etcdOrigCut),
		infoRow("etcd: cut-off rounds, from the freeze: old leader's free / new leader's commit",
			fmt.Sprintf("free p50 %s, max %s; commit p50 %s, max %s (n=%d)", ms(f.P50), ms(f.Max), ms(k.P50), ms(k.Max), n), ""),
	}, nil
}

// delayRounds: each round delays every byte between the leading manager
// and etcd by 0.6 s each way (its renewals miss --etcd-timeout): it frees
// at its local deadline and revokes its lease, and another manager
// commits. The time with no leader is the old leader's free to the new
// leader's commit.
func (c *etcdFaultCluster) delayRounds(ctx context.Context) (row, error) {
	var gaps, leads []time.Duration
	clean := 0
	for round := range c.h.opts.EtcdRounds {
		lead, err := c.leader(ctx)
		if err != nil {
			return row{}, err
		}
		t0 := time.Now().UnixNano()
		lead.delay(etcdDelay)
		committed, err := waitAny(ctx, eventLogs(others(c.nodes, lead)), match{since: t0, op: "commit", group: etcdGroup}, 4*c.lease)
		if err != nil {
			lead.delay(0)
			return row{}, fmt.Errorf("delay round %d: %w", round+1, err)
		}
		freed, err := lead.events.waitFirst(ctx, match{since: t0, op: "free", group: etcdGroup}, etcdEventWait)
		lead.delay(0)
		if err != nil {
			return row{}, fmt.Errorf("delay round %d: the delayed leader never freed its group: %w", round+1, err)
		}
		if freed < committed {
			clean++
		}
		gaps = append(gaps, time.Duration(committed-freed))
		leads = append(leads, time.Duration(committed-t0))
		c.h.log.Info("etcd delay round done", "round", round+1, "noLeader", ms(gaps[len(gaps)-1]), "commit", ms(leads[len(leads)-1]))
		if err := sleep(ctx, time.Second); err != nil { // the delayed manager reconnects and follows
			return row{}, err
		}
	}
	g, k := summarize(gaps), summarize(leads)
	goal := c.lease + time.Second
	return goalRow(etcdMeasureDelay,
		fmt.Sprintf("time with no leader %s; another manager committed after p50 %s, max %s; %d of %d freed first",
			signedSummary(g), ms(k.P50), ms(k.Max), clean, len(gaps)),
		"another manager commits ≤ TTL + 1 s ("+ms(goal)+"), the delayed one freed first", k.Max <= goal && clean == len(gaps), etcdOrigDelay), nil
}

// raftRounds: each round kills -9 the etcd Raft leader member while
// commits are probed through every manager; service is back at the first
// probe that succeeds. The member is then started again, and the round is
// judged one lease plus a second after the kill (a lease lost to the fault
// shows by then): the manager that led must still lead and must not have
// freed the group (no leadership change), and no other manager may have
// committed the group while it still ran it (no double commit).
func (c *etcdFaultCluster) raftRounds(ctx context.Context) (row, error) {
	var back []time.Duration
	var faults []string
	doubles := 0
	sockets := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		sockets = append(sockets, n.socket())
	}
	for round := range c.h.opts.EtcdRounds {
		lead, err := c.leader(ctx)
		if err != nil {
			return row{}, err
		}
		member, err := c.lab.leader(ctx)
		if err != nil {
			return row{}, err
		}
		t0 := time.Now()
		if err := c.lab.member(ctx, "kill", member); err != nil {
			return row{}, err
		}
		at, err := c.probe(ctx, sockets)
		if err != nil {
			return row{}, fmt.Errorf("raft round %d (member %d killed): %w", round+1, member, err)
		}
		back = append(back, at.Sub(t0))
		if err := c.lab.member(ctx, "start", member); err != nil {
			return row{}, err
		}
		if _, err := c.lab.run(ctx, time.Minute, "wait", "30"); err != nil {
			return row{}, err
		}
		if err := sleep(ctx, time.Until(t0.Add(c.lease+time.Second))); err != nil {
			return row{}, err
		}
		name, err := holder(ctx, c.cli, c.prefix)
		if err != nil {
			return row{}, err
		}
		since := t0.UnixNano()
		freed, err := lead.events.waitFirst(ctx, match{since: since, op: "free", group: etcdGroup}, 0)
		if err != nil && !errors.Is(err, errTimeout) {
			return row{}, err
		}
		switch {
		case name != lead.cand:
			faults = append(faults, fmt.Sprintf("round %d: leadership moved from %s to %q", round+1, lead.cand, name))
		case err == nil:
			faults = append(faults, fmt.Sprintf("round %d: %s freed its group (its leadership lapsed) and leads again", round+1, lead.cand))
		}
		for _, o := range others(c.nodes, lead) {
			committed, err := o.events.waitFirst(ctx, match{since: since, op: "commit", group: etcdGroup}, 0)
			switch {
			case errors.Is(err, errTimeout):
			case err != nil:
				return row{}, err
			case freed == 0 || committed <= freed:
				doubles++
				faults = append(faults, fmt.Sprintf("round %d: %s committed the group while %s ran it (double commit)", round+1, o.cand, lead.cand))
			}
		}
		c.h.log.Info("etcd raft round done", "round", round+1, "member", member, "back", ms(back[len(back)-1]), "holder", name)
	}
	s := summarize(back)
	figure := fmt.Sprintf("commits back after p50 %s, max %s (n=%d); ", ms(s.P50), ms(s.Max), s.N)
	if len(faults) == 0 {
		figure += "leadership kept, no double commit, every round"
	} else {
		figure += fmt.Sprintf("%d double commit(s); ", doubles) + strings.Join(faults, "; ")
	}
	return goalRow(etcdMeasureRaft, figure, "no leadership change, no double commit, back ≤ "+ms(etcdServiceGoal),
		len(faults) == 0 && s.Max <= etcdServiceGoal, ""), nil
}

// probe starts a commit of etcdGroup (a new generation each) through every
// manager at sockets every etcdProbeEvery, each on its own connection and
// with its own deadline, and returns when the first one succeeded; calls
// that hang while etcd elects a new Raft leader do not delay the next.
func (c *etcdFaultCluster) probe(ctx context.Context, sockets []string) (time.Time, error) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		last error
		won  = make(chan time.Time, 1)
	)
	defer func() { cancel(); wg.Wait() }()
	tick := time.NewTicker(etcdProbeEvery)
	defer tick.Stop()
	deadline := time.NewTimer(etcdServiceWait)
	defer deadline.Stop()
	for {
		c.gen++
		spec := groupSpec(etcdGroup, c.gen)
		for _, socket := range sockets {
			wg.Go(func() {
				cl := plugin.NewClient(socket, plugin.ClientOptions{Timeout: clientTimeout})
				defer cl.Close()
				_, err := cl.CommitGroup(ctx, spec, false)
				if err == nil {
					select {
					case won <- time.Now():
					default:
					}
					return
				}
				mu.Lock()
				last = err
				mu.Unlock()
			})
		}
		select {
		case at := <-won:
			return at, nil
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-deadline.C:
			mu.Lock()
			why := last
			mu.Unlock()
			return time.Time{}, fmt.Errorf("no commit succeeded within %s of the kill: %w (last error: %v)",
				etcdServiceWait, errTimeout, why)
		case <-tick.C:
		}
	}
}

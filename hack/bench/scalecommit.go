package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

const (
	// scaleCommits is how many 1-client commits are timed at scale, each
	// way (through the manager, directly to a simulator).
	scaleCommits = 50
	// commitFactor: a commit through the manager costs at most this times
	// the store-sized fsync probe, plus two direct round trips.
	commitFactor = 1.3
	// takeoverRuns is how many takeovers of scaleGroups are timed.
	takeoverRuns = 3
)

// scaleCommitRows measures, with scaleGroups stored and running: commit
// latency through the manager against a durable replacement of a file of
// the store's size plus two direct commits to an identical simulator, and
// InspectGroups through the manager against the simulator's own answer of
// the same groups, all in the same run.
func (h *harness) scaleCommitRows(ctx context.Context, c *osCluster, n *osNode) ([]row, error) {
	ds, err := h.startSim(ctx, n.pluginDir, direct)
	if err != nil {
		return nil, err
	}
	defer func() { _ = ds.stop() }()
	managed, bypass := filepath.Join(n.pluginDir, n.name), filepath.Join(n.pluginDir, direct)
	for _, sock := range []string{managed, bypass} { // warm both paths
		if _, err := h.commitBatch(ctx, sock, 1, 5, 0); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	var through, straight commitRun
	for round := range commitRounds { // interleaved: a change of load hits both
		gen := 100 + round*scaleCommits
		for _, run := range []struct {
			acc  *commitRun
			sock string
		}{{&straight, bypass}, {&through, managed}} {
			r, err := h.commitBatch(ctx, run.sock, 1, scaleCommits/commitRounds+1, gen)
			if err != nil {
				return nil, err
			}
			run.acc.add(r)
		}
	}
	size, probes, err := storeProbe(c, loadedProbes)
	if err != nil {
		return nil, err
	}
	sm, sd, sp := summarize(through.lat), summarize(straight.lat), summarize(probes)
	limit := time.Duration(commitFactor*float64(sp.P50)) + 2*sd.P50
	rows := []row{goalRow(fmt.Sprintf("commit p50, 1 client, %d groups stored, os", scaleGroups),
		fmt.Sprintf("%s (store-sized fsync probe %s p50, %s; direct commit p50 %s)", sm.percentiles(), mib(size), ms(sp.P50), ms(sd.P50)),
		fmt.Sprintf("<= %.1fx probe + 2 direct (%s)", commitFactor, ms(limit)), sm.P50 <= limit, "")}

	// InspectGroups: the manager's answer and the simulator's own, same
	// groups (the managed simulator runs exactly the stored groups).
	var mgr, sim []time.Duration
	for range 2 {
		m, err := inspectLatency(ctx, managed, scaleGroups)
		if err != nil {
			return rows, err
		}
		s, err := inspectLatency(ctx, filepath.Join(n.pluginDir, downstream), scaleGroups)
		if err != nil {
			return rows, err
		}
		mgr, sim = append(mgr, m...), append(sim, s...)
	}
	im, is := summarize(mgr), summarize(sim)
	rows = append(rows, goalRow(fmt.Sprintf("InspectGroups, %d groups, 1 client: through the manager (simulator's own in the goal)", scaleGroups),
		im.percentiles(), fmt.Sprintf("p50 <= the simulator's own, same run (%s)", ms(is.P50)), im.P50 <= is.P50, ""))
	return rows, nil
}

// scaleTakeovers times takeoverRuns takeovers of scaleGroups groups, each
// a fresh follower (manager and simulator) whose leader file is flipped to it.
func (h *harness) scaleTakeovers(ctx context.Context) ([]row, error) {
	var took []time.Duration
	var cpu []string
	for i := range takeoverRuns {
		c, n, err := h.follower(ctx, fmt.Sprintf("st%d-", i), scaleGroups)
		if err != nil {
			return nil, err
		}
		if err := sleep(ctx, time.Second); err != nil { // past the follower's first sync
			n.stop()
			return nil, err
		}
		mgrCPU, simCPU := cpuMeter(n.mgr.pid()), cpuMeter(n.sim.pid())
		t0, err := c.setLeader("group")
		if err == nil {
			var last int64
			last, err = n.events.waitDistinct(ctx, match{since: t0, op: "commit"}, scaleGroups, time.Minute)
			took = append(took, time.Duration(last-t0))
			cpu = append(cpu, fmt.Sprintf("manager %s, sim %s", mgrCPU(), simCPU()))
		}
		n.stop()
		if err != nil {
			return nil, err
		}
	}
	under := 0
	figure := ""
	for i, d := range took {
		if d < takeoverGoal {
			under++
		}
		figure += fmt.Sprintf("%s%s (CPU %s)", map[bool]string{true: "; ", false: ""}[i > 0], ms(d), cpu[i])
	}
	return []row{goalRow(fmt.Sprintf("takeover of %d groups, %d runs (rename to last commit)", scaleGroups, takeoverRuns),
		figure, fmt.Sprintf("< %s, %d of %d runs", ms(takeoverGoal), takeoverRuns, takeoverRuns), under == takeoverRuns, "")}, nil
}

package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"syscall"
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd"
)

// etcdStored measures commits through a manager holding etcdSmallStore and
// takeoverGoalGroups groups, interleaved, then the takeover of the large
// store by a second manager when the first is stopped, then splits one
// commit's store work in-process.
func (h *harness) etcdStored(ctx context.Context, endpoints []string) ([]row, error) {
	small, large := etcdSmallStore, takeoverGoalGroups
	pSmall, pLarge := fmt.Sprintf("/bench/%d", small), fmt.Sprintf("/bench/%d", large)
	if _, err := h.importGroups(ctx, endpoints, pSmall, small); err != nil {
		return nil, err
	}
	imported, err := h.importGroups(ctx, endpoints, pLarge, large)
	if err != nil {
		return nil, err
	}
	cli, err := newEtcdClient(endpoints)
	if err != nil {
		return nil, err
	}
	defer cli.Close()

	s, err := h.etcdNodeOf(ctx, endpoints, pSmall, "es", false)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	a, err := h.etcdNodeOf(ctx, endpoints, pLarge, "ea", false, "--on-stop", "keep")
	if err != nil {
		return nil, err
	}
	defer a.stop()
	wait := 20*time.Second + time.Duration(large)*5*time.Millisecond
	for _, x := range []struct {
		n      *etcdNode
		prefix string
		count  int
	}{{s, pSmall, small}, {a, pLarge, large}} {
		if _, err := waitHolder(ctx, cli, x.prefix, []*etcdNode{x.n}, etcdEventWait); err != nil {
			return nil, err
		}
		if _, err := x.n.events.waitDistinct(ctx, match{op: "commit"}, x.count, wait); err != nil {
			return nil, err
		}
	}
	b, err := h.etcdNodeOf(ctx, endpoints, pLarge, "eb", false)
	if err != nil {
		return nil, err
	}
	defer b.stop()

	// Commits: both managers lead; batches alternate so that a change in
	// the machine's load affects both alike.
	for _, sock := range []string{s.socket(), a.socket()} {
		if _, err := h.commitBatch(ctx, sock, 1, 20, 0); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	var rs, rl commitRun
	var cs, cl time.Duration // the managers' CPU time during the batches
	gen := 100
	each := h.opts.Commits/commitRounds + 1
	for round := range commitRounds {
		for _, run := range []struct {
			acc  *commitRun
			cpu  *time.Duration
			node *etcdNode
		}{{&rs, &cs, s}, {&rl, &cl, a}} {
			before, err := cpuTime(run.node.mgr.pid())
			if err != nil {
				return nil, err
			}
			r, err := h.commitBatch(ctx, run.node.socket(), 1, each, gen)
			gen += each
			if err != nil {
				return nil, fmt.Errorf("commit round %d: %w", round+1, err)
			}
			after, err := cpuTime(run.node.mgr.pid())
			if err != nil {
				return nil, err
			}
			*run.cpu += after - before
			run.acc.add(r)
		}
	}
	ss, sl := summarize(rs.lat), summarize(rl.lat)
	perCommit := func(cpu time.Duration, n int) string {
		return fmt.Sprintf("; manager CPU %s per commit", ms(cpu/time.Duration(max(n, 1))))
	}
	limit := time.Duration(float64(ss.P50) * (1 + etcdCommitGrowth))
	rows := []row{
		infoRow(fmt.Sprintf("etcd: import of %d groups (infrakit-manager etcd import)", large), ms(imported), ""),
		goalRow(etcdCommitMeasure(small), ss.percentiles()+perCommit(cs, ss.N), "p50 ≤ "+ms(etcdCommitGoal), ss.P50 <= etcdCommitGoal, ""),
		goalRow(etcdCommitMeasure(large), fmt.Sprintf("%s%s; p50 %+.0f%% of the %d-group p50", sl.percentiles(), perCommit(cl, sl.N),
			100*(float64(sl.P50)/float64(ss.P50)-1), small),
			fmt.Sprintf("p50 ≤ %s and within %.0f%% of the %d-group p50 (≤ %s)", ms(etcdCommitGoal), 100*etcdCommitGrowth, small, ms(limit)),
			sl.P50 <= etcdCommitGoal && sl.P50 <= limit, etcdOrigCommit),
	}

	// Takeover: a (--on-stop keep) resigns (SIGTERM revokes its lease at
	// once); b, following, leads and commits every stored group (the large
	// store and the client's c00).
	stored := large + 1
	mgrCPU, simCPU := cpuMeter(b.mgr.pid()), cpuMeter(b.sim.pid())
	t0 := time.Now().UnixNano()
	if err := a.mgr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	first, err := b.events.waitFirst(ctx, match{since: t0, op: "commit"}, wait)
	if err != nil {
		return nil, err
	}
	last, err := b.events.waitDistinct(ctx, match{since: t0, op: "commit"}, stored, wait)
	if err != nil {
		return nil, err
	}
	took := time.Duration(last - t0)
	rows = append(rows, goalRow(etcdMeasureTakeover,
		fmt.Sprintf("%s (first commit at %s; CPU used: manager %s, sim %s)", ms(took), ms(time.Duration(first-t0)), mgrCPU(), simCPU()),
		"≤ "+ms(etcdTakeoverGoal), took <= etcdTakeoverGoal, ""))
	h.log.Info("etcd takeover done", "groups", stored, "took", ms(took))
	handover, err := h.etcdHandover(ctx, a, b, stored, wait)
	if err != nil {
		return rows, err
	}
	rows = append(rows, handover)

	// The split, with the managers stopped so nobody else writes.
	for _, n := range []*etcdNode{s, a, b} {
		n.stop()
	}
	for _, x := range []struct {
		prefix string
		count  int
	}{{pSmall, small + 1}, {pLarge, stored}} {
		r, err := storeSplit(ctx, endpoints, x.prefix, x.count)
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	if !h.wantEtcdProfile(rows) {
		return rows, nil
	}
	for _, x := range []struct {
		prefix string
		count  int
	}{{pSmall, small + 1}, {pLarge, stored}} {
		r, err := h.etcdProfile(ctx, endpoints, x.prefix, x.count)
		if err != nil {
			return rows, fmt.Errorf("in-process profile of %d groups: %w", x.count, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// wantEtcdProfile reports whether the in-process commit profile runs: with
// --profile always, or auto when a commit goal was missed.
func (h *harness) wantEtcdProfile(rows []row) bool {
	switch h.opts.Profile {
	case profileAlways:
		return true
	case profileAuto:
		for _, r := range rows {
			if r.Verdict == missed && (r.Measure == etcdCommitMeasure(etcdSmallStore) || r.Measure == etcdCommitMeasure(takeoverGoalGroups)) {
				return true
			}
		}
	}
	return false
}

// storeSplit times, in this process against the lab, the store work of one
// commit with count groups stored: the controller's copy of its cached
// config (controller/reconciler/batch.go build: maps.Clone), etcd.Store.Save of a
// config that changes nothing (the whole-config diff against the watched
// cache alone, what every commit cost before SaveChanged) and SaveChanged
// of one changed group (its diff and one Txn, what the controller calls).
// The Store is unfenced, so the Txn lacks the leader-key compare of a
// manager's.
func storeSplit(ctx context.Context, endpoints []string, prefix string, count int) (row, error) {
	cli, err := newEtcdClient(endpoints)
	if err != nil {
		return row{}, err
	}
	defer cli.Close()
	o := etcd.DefaultStoreOptions()
	// A slow call is a sample (it shows in the tail), not a failure.
	o.Prefix, o.CallTimeout = prefix, 10*time.Second
	st, err := etcd.NewStore(cli, o)
	if err != nil {
		return row{}, err
	}
	defer st.Close()
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, v, err := st.Load(lctx)
	if err != nil {
		return row{}, err
	}
	if len(cfg.Groups) != count {
		return row{}, fmt.Errorf("store split: %s holds %d groups, want %d", prefix, len(cfg.Groups), count)
	}
	var clones, diffs, saves []time.Duration
	for i := range etcdSplitSamples {
		t := time.Now()
		next := sources.Config{Groups: maps.Clone(cfg.Groups)}
		clones = append(clones, time.Since(t))

		t = time.Now()
		if _, err := st.Save(ctx, next, v); err != nil {
			return row{}, fmt.Errorf("store split: unchanged save: %w", err)
		}
		diffs = append(diffs, time.Since(t))

		e, err := storedEntry(groupSpec("c00", 1_000_000+i))
		if err != nil {
			return row{}, err
		}
		next.Groups[plugin.ID("c00")] = e
		t = time.Now()
		if v, err = st.SaveChanged(ctx, next, v, []plugin.ID{"c00"}); err != nil {
			return row{}, fmt.Errorf("store split: save: %w", err)
		}
		saves = append(saves, time.Since(t))
		cfg = next
	}
	c, d, s := summarize(clones), summarize(diffs), summarize(saves)
	return infoRow(etcdSplitMeasure(count),
		fmt.Sprintf("copy of the whole config (what a whole-config save starts with; the manager hands etcd only the changed groups) p50 %s; whole-config Save changing nothing (its diff alone) p50 %s; "+
			"SaveChanged of one group, as the manager saves (that group's diff + an unfenced Txn) p50 %s (n=%d)",
			ms(c.P50), ms(d.P50), ms(s.P50), s.N), ""), nil
}

// etcdHandover restarts a (default --on-stop free) as a follower, waits
// until its downstream has freed the groups a's SIGTERM kept running, then
// stops b, the leader, with SIGTERM: b frees every group while it still
// holds the election, then revokes its lease, and a commits them all.
func (h *harness) etcdHandover(ctx context.Context, a, b *etcdNode, stored int, wait time.Duration) (row, error) {
	a.args = slices.DeleteFunc(a.args, func(s string) bool { return s == "--handover" || s == "keep" })
	restarted := time.Now().UnixNano()
	if err := h.startEtcdManager(ctx, a); err != nil {
		return row{}, err
	}
	if _, err := a.events.waitDistinct(ctx, match{since: restarted, op: "free"}, stored, wait); err != nil {
		return row{}, fmt.Errorf("handover: the restarted follower did not free its groups: %w", err)
	}
	t0 := time.Now().UnixNano()
	if err := b.mgr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return row{}, err
	}
	lastFree, err := b.events.waitDistinct(ctx, match{since: t0, op: "free"}, stored, wait)
	if err != nil {
		return row{}, fmt.Errorf("handover: the leader did not free its groups: %w", err)
	}
	first, err := a.events.waitFirst(ctx, match{since: t0, op: "commit"}, wait)
	if err != nil {
		return row{}, err
	}
	last, err := a.events.waitDistinct(ctx, match{since: t0, op: "commit"}, stored, wait)
	if err != nil {
		return row{}, err
	}
	h.log.Info("etcd handover done", "groups", stored, "freed", ms(time.Duration(lastFree-t0)), "last", ms(time.Duration(last-t0)))
	return goalRow(etcdMeasureHandover,
		fmt.Sprintf("old leader freed all in %s; new leader's first commit %s after the last free; last commit at %s",
			ms(time.Duration(lastFree-t0)), ms(time.Duration(first-lastFree)), ms(time.Duration(last-t0))),
		"no group on two downstreams: first commit after the last free", first > lastFree, etcdOrigHandover), nil
}

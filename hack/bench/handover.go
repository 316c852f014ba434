package main

import (
	"context"
	"fmt"
	"time"
)

// handoverStats is one mode's handovers: overlap and gap of each, and the
// rename to the new leader's commit.
type handoverStats struct {
	n, nOverlap, nGap        int
	overlaps, gaps, toCommit []time.Duration
}

// handovers: two managers (group, group2), each with its own plugin
// directory and simulator, sharing the leader file and the store; once with
// --handover fenced (the default, goals) and once with --handover fast
// (for comparison).
func (h *harness) handovers(ctx context.Context) ([]row, error) {
	var rows []row
	for _, mode := range []string{"fenced", "fast"} {
		st, err := h.handoverRun(ctx, mode)
		if err != nil {
			rows = append(rows, failRow(fmt.Sprintf("os two-manager handover (--handover %s)", mode), err))
			continue
		}
		o, g, tc := summarize(st.overlaps), summarize(st.gaps), summarize(st.toCommit)
		h.log.Info("handovers done", "mode", mode, "overlap", o.percentiles(), "gap", g.percentiles())
		overlap := fmt.Sprintf("%d of %d handovers; %s", st.nOverlap, st.n, o.percentiles())
		gap := fmt.Sprintf("%d of %d handovers; %s", st.nGap, st.n, g.percentiles())
		if mode == "fenced" {
			rows = append(rows,
				goalRow(measureOverlap, overlap, fmt.Sprintf("0 in %d", st.n), st.nOverlap == 0, origOverlap),
				goalRow(measureGap, gap, "p99 <= "+ms(handoverGapGoal), g.P99 <= handoverGapGoal, origGap),
				infoRow("os two-manager handover (--handover fenced): rename to new leader's commit", tc.percentiles(), origHandover))
			continue
		}
		rows = append(rows,
			infoRow("os two-manager handover (--handover fast, for comparison): overlap", overlap, origOverlap),
			infoRow("os two-manager handover (--handover fast, for comparison): gap", gap, origGap),
			infoRow("os two-manager handover (--handover fast, for comparison): rename to new leader's commit", tc.percentiles(), origHandover))
	}
	return rows, nil
}

// handoverRun makes opts.Handovers handovers between two managers running
// with --handover mode; overlap and gap come from the two simulators'
// event logs (old leader's free against new leader's commit).
func (h *harness) handoverRun(ctx context.Context, mode string) (handoverStats, error) {
	var st handoverStats
	c, err := h.newOSCluster("h-" + mode)
	if err != nil {
		return st, err
	}
	c.handover = mode
	if _, err := c.store(1); err != nil {
		return st, err
	}
	const group = "g00000"
	if _, err := c.setLeader(nobody); err != nil {
		return st, err
	}
	a, err := c.node(ctx, "group")
	if err != nil {
		return st, err
	}
	defer a.stop()
	b, err := c.node(ctx, "group2")
	if err != nil {
		return st, err
	}
	defer b.stop()
	t0, err := c.setLeader(a.name)
	if err != nil {
		return st, err
	}
	if _, err := a.events.waitFirst(ctx, match{since: t0, op: "commit", group: group}, eventWait); err != nil {
		return st, err
	}
	from, to := a, b
	for i := range h.opts.Handovers {
		if err := settle(ctx); err != nil {
			return st, err
		}
		t0, err := c.setLeader(to.name)
		if err != nil {
			return st, err
		}
		committed, err := to.events.waitFirst(ctx, match{since: t0, op: "commit", group: group}, eventWait)
		if err != nil {
			return st, fmt.Errorf("handover %d: %w", i+1, err)
		}
		freed, err := from.events.waitFirst(ctx, match{since: t0, op: "free", group: group}, eventWait)
		if err != nil {
			return st, fmt.Errorf("handover %d: %w", i+1, err)
		}
		o, g := handover(freed, committed)
		if o > 0 {
			st.nOverlap++
		}
		if g > 0 {
			st.nGap++
		}
		st.n++
		st.overlaps, st.gaps = append(st.overlaps, o), append(st.gaps, g)
		st.toCommit = append(st.toCommit, time.Duration(committed-t0))
		from, to = to, from
	}
	return st, nil
}

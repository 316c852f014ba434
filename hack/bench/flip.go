package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

const (
	// flipGoal: leader-file flip to the first downstream RPC, p99.
	flipGoal = 50 * time.Millisecond
	// handoverGapGoal: two-manager fenced handover gap, p99, both alive.
	handoverGapGoal = 50 * time.Millisecond
	// eventWait bounds one wait for a simulator event after a flip; the
	// poll (5s) would catch a missed inotify event well within it.
	eventWait = 15 * time.Second
)

// Measures that have a goal, as the rows name them.
const (
	measureGain    = "leader-file flip to first RPC: gain (rename to commit)"
	measureLoss    = "leader-file flip to first RPC: loss (rename to free)"
	measureOverlap = "os two-manager handover (--handover fenced): overlap (both ran the group)"
	measureGap     = "os two-manager handover (--handover fenced): gap (nobody ran the group), both alive"
)

// Original figures, quoted from the measurement of InfraKit v0.1.0.
const (
	origGain     = "1.43-4.77 s (mean 2.47 s) to commit"
	origLoss     = "0.13-4.19 s (mean 1.85 s) to free"
	origStart    = "answers not-a-leader for a full poll interval after start"
	origOverlap  = "6 of 11 handovers: both ran the groups for 2.1-2.9 s"
	origGap      = "5 of 11 handovers: groups unmanaged for 2.1-2.9 s"
	origHandover = "no handover in under 2.1 s"
)

// settle pauses 5-25 ms between flips, so flips are not phase-locked to
// anything periodic in the manager.
func settle(ctx context.Context) error {
	return sleep(ctx, 5*time.Millisecond+rand.N(20*time.Millisecond))
}

// flips: one manager and its simulator; the leader file flips to the
// manager and away. Gain is timed to the simulator's commit event, loss to
// its free event.
func (h *harness) flips(ctx context.Context) ([]row, error) {
	c, err := h.newOSCluster("f")
	if err != nil {
		return nil, err
	}
	if _, err := c.store(1); err != nil {
		return nil, err
	}
	const group = "g00000"
	// Start as the named leader: time from exec to the first commit.
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	n, err := c.node(ctx, "group")
	if err != nil {
		return nil, err
	}
	defer n.stop()
	first, err := n.events.waitFirst(ctx, match{since: n.mgrStart, op: "commit", group: group}, eventWait)
	if err != nil {
		return nil, err
	}
	startToCommit := time.Duration(first - n.mgrStart)
	if _, err := c.setLeader(nobody); err != nil {
		return nil, err
	}
	if _, err := n.events.waitFirst(ctx, match{since: first, op: "free", group: group}, eventWait); err != nil {
		return nil, err
	}

	var gains, losses []time.Duration
	c.renames = nil
	for i := range h.opts.Flips {
		for _, to := range []string{"group", nobody} {
			if err := settle(ctx); err != nil {
				return nil, err
			}
			t0, err := c.setLeader(to)
			if err != nil {
				return nil, err
			}
			op := "commit"
			if to == nobody {
				op = "free"
			}
			at, err := n.events.waitFirst(ctx, match{since: t0, op: op, group: group}, eventWait)
			if err != nil {
				return nil, fmt.Errorf("flip %d: %w", i+1, err)
			}
			if to == nobody {
				losses = append(losses, time.Duration(at-t0))
			} else {
				gains = append(gains, time.Duration(at-t0))
			}
		}
	}
	g, l := summarize(gains), summarize(losses)
	h.log.Info("flips done", "gain", g.percentiles(), "loss", l.percentiles())
	return []row{
		goalRow(measureGain, g.percentiles(),
			"p99 < "+ms(flipGoal), g.P99 < flipGoal, origGain),
		goalRow(measureLoss, l.percentiles(),
			"p99 < "+ms(flipGoal), l.P99 < flipGoal, origLoss),
		infoRow("leader-file rename itself (harness side, inside the figures above)", summarize(c.renames).percentiles(), ""),
		infoRow("start as the named leader to first commit (exec to commit)", ms(startToCommit), origStart),
	}, nil
}

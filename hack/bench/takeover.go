package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

const (
	// takeoverGoal: the largest takeover (10,000 groups) completes in this.
	takeoverGoal = time.Second
	// takeoverGoalGroups is the group count the goal is about.
	takeoverGoalGroups = 10000
	// rssIdleGoal and rssLoadedGoal bound the manager's VmRSS.
	rssIdleGoal   = 30 << 20
	rssLoadedGoal = 150 << 20
	// loadedCommits is the number of commits timed by the profile section
	// while the largest takeover's groups are stored.
	loadedCommits = 20
	// quiet is how long a process is left alone before its RSS is read.
	quiet = 2 * time.Second
)

// takeovers: for each count, a manager that follows (the leader file names
// nobody) over a store of that many groups; the leader file flips to it and
// the time until the simulator has committed every group is measured. The
// manager's RSS is read after the largest takeover.
func (h *harness) takeovers(ctx context.Context) ([]row, error) {
	var rows []row
	for _, count := range h.opts.Takeovers {
		r, err := h.takeover(ctx, count, count == slices.Max(h.opts.Takeovers))
		if err != nil {
			rows = append(rows, failRow(fmt.Sprintf("takeover of %d stored groups", count), err))
			h.failed = append(h.failed, err)
			continue
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func (h *harness) takeover(ctx context.Context, count int, readRSS bool) ([]row, error) {
	c, n, err := h.follower(ctx, fmt.Sprintf("t%d-", count), count)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	if err := sleep(ctx, 500*time.Millisecond); err != nil { // past the follower's first sync
		return nil, err
	}
	addr, err := metricsAddr(ctx, n.mgr)
	if err != nil {
		return nil, err
	}
	mgrCPU, simCPU := cpuMeter(n.mgr.pid()), cpuMeter(n.sim.pid())
	scrapes := startScraper(ctx, addr)
	t0, err := c.setLeader("group")
	if err != nil {
		_, _ = scrapes.stop()
		return nil, err
	}
	wait := 20*time.Second + time.Duration(count)*5*time.Millisecond
	first, err := n.events.waitFirst(ctx, match{since: t0, op: "commit"}, wait)
	if err != nil {
		return nil, err
	}
	last, err := n.events.waitDistinct(ctx, match{since: t0, op: "commit"}, count, wait)
	lat, scrapeErr := scrapes.stop()
	if err != nil {
		return nil, err
	}
	if scrapeErr != nil {
		return nil, fmt.Errorf("scrape during the takeover: %w", scrapeErr)
	}
	took := time.Duration(last - t0)
	figure := fmt.Sprintf("%s (first commit at %s; CPU used: manager %s, sim %s)",
		ms(took), ms(time.Duration(first-t0)), mgrCPU(), simCPU())
	h.log.Info("takeover done", "groups", count, "took", figure)
	measure := takeoverMeasure(count)
	var rows []row
	scrape := summarize(lat)
	scrapeMeasure := fmt.Sprintf("scrape of /metrics during the takeover of %d groups (every %s)", count, scrapeEvery)
	if count == takeoverGoalGroups {
		rows = append(rows, goalRow(measure, figure, "< "+ms(takeoverGoal), took < takeoverGoal, ""))
		rows = append(rows, goalRow(scrapeMeasure, scrape.percentiles(), "max < "+ms(scrapeGoal), scrape.N > 0 && scrape.Max < scrapeGoal, ""))
	} else {
		rows = append(rows, infoRow(measure, figure, ""))
		rows = append(rows, infoRow(scrapeMeasure, scrape.percentiles(), ""))
	}
	if !readRSS {
		loaded, err := h.loaded(ctx, c, n, count, false)
		if err != nil {
			return nil, err
		}
		rows = append(rows, loaded...)
	}
	if readRSS {
		if err := sleep(ctx, quiet); err != nil {
			return nil, err
		}
		rss, err := rssBytes(n.mgr.pid())
		if err != nil {
			return nil, err
		}
		measure := fmt.Sprintf("manager RSS holding %d groups (after takeover)", count)
		if count == takeoverGoalGroups {
			rows = append(rows, goalRow(measure, mib(rss), "< "+mib(rssLoadedGoal), rss < rssLoadedGoal, ""))
		} else {
			rows = append(rows, infoRow(measure, mib(rss), ""))
		}
		// Commits and reads while this many groups are stored.
		loaded, err := h.loaded(ctx, c, n, count, true)
		if err != nil {
			return nil, err
		}
		rows = append(rows, loaded...)
		now, err1 := rssBytes(n.mgr.pid())
		peak, err2 := statusBytes(n.mgr.pid(), "VmHWM")
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		rows = append(rows, infoRow(fmt.Sprintf("manager RSS holding %d groups after those commits (VmRSS; peak VmHWM)", count),
			fmt.Sprintf("%s; peak %s", mib(now), mib(peak)), ""))
	}
	return rows, nil
}

// cpuMeter reads pid's CPU time now; the returned func renders the CPU time
// used since.
func cpuMeter(pid int) func() string {
	before, err := cpuTime(pid)
	return func() string {
		after, err2 := cpuTime(pid)
		if err != nil || err2 != nil {
			return "unknown"
		}
		return ms(after - before)
	}
}

// takeoverMeasure names the takeover row of count groups.
func takeoverMeasure(count int) string {
	noun := "groups"
	if count == 1 {
		noun = "group"
	}
	return fmt.Sprintf("takeover of %d stored %s (rename to last commit)", count, noun)
}

// loadedCommitMeasure names the row of commits while count groups are stored.
func loadedCommitMeasure(count int) string {
	return fmt.Sprintf("commit latency, 1 client, through the manager holding %d groups", count)
}

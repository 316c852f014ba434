package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/infrakit-manager/manager/sources/file"
)

// curveCommits is the number of 1-client commits timed at each count of a
// cost curve (after curveWarmup untimed ones).
const (
	curveCommits = 20
	curveWarmup  = 5
)

// osCurveMeasure names the os cost curve's row of count groups.
func osCurveMeasure(count int) string {
	return fmt.Sprintf("os cost curve, %d groups: takeover (rename to last commit); commit p50, 1 client; manager RSS", count)
}

// osCurve is os mode's cost curve, as etcdScale is etcd's: for each count
// (default 1,000, 10,000, 100,000) a follower over count stored groups
// takes over (leader file renamed to it), then commits through it are
// timed and its RSS read. Figures only.
func (h *harness) osCurve(ctx context.Context) ([]row, error) {
	var rows []row
	for _, count := range h.curveCounts() {
		r, err := h.osCurveOne(ctx, count)
		h.procs.closeAll()
		if err != nil {
			return append(rows, failRow(osCurveMeasure(count), err)), err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// curveCounts are the counts of the os and swarm cost curves.
func (h *harness) curveCounts() []int {
	if len(h.opts.Curve) > 0 {
		return h.opts.Curve
	}
	return []int{1000, 10000, 100000}
}

// curveWait bounds a takeover of count groups.
func curveWait(count int) time.Duration {
	return 30*time.Second + time.Duration(count)*5*time.Millisecond
}

func (h *harness) osCurveOne(ctx context.Context, count int) (row, error) {
	c, err := h.newOSCluster(fmt.Sprintf("oc%d-", count))
	if err != nil {
		return row{}, err
	}
	if _, err := c.store(count); err != nil {
		return row{}, err
	}
	fi, err := os.Stat(filepath.Join(c.storeDir, "global.config"))
	if err != nil {
		return row{}, err
	}
	if _, err := c.setLeader(nobody); err != nil {
		return row{}, err
	}
	// A store larger than the default --max-config-bytes is refused (read
	// and written): the limit is raised for that count, and the row says so.
	var mgrArgs []string
	limitNote := ""
	if def := file.DefaultStoreOptions().MaxBytes; fi.Size() > def {
		raised := 2 * fi.Size()
		mgrArgs = []string{"--max-config-bytes", strconv.FormatInt(raised, 10)}
		limitNote = fmt.Sprintf("; --max-config-bytes raised to %s (the default %s holds about %d of these groups)",
			mib(raised), mib(def), def*int64(count)/fi.Size())
	}
	n, err := c.nodeWith(ctx, "group", nil, mgrArgs...)
	if err != nil {
		return row{}, err
	}
	defer n.stop()
	// Past the follower's first sync (a read of the whole store).
	if err := sleep(ctx, time.Second+time.Duration(count)*20*time.Microsecond); err != nil {
		return row{}, err
	}
	mgrCPU, simCPU := cpuMeter(n.mgr.pid()), cpuMeter(n.sim.pid())
	t0, err := c.setLeader("group")
	if err != nil {
		return row{}, err
	}
	pt, err := h.measureCurvePoint(ctx, n, t0, count, mgrCPU, simCPU)
	if err == nil {
		err = pt.runErr
	}
	if err != nil {
		return row{}, err
	}
	s := summarize(pt.run.lat)
	h.log.Info("os curve done", "groups", count, "takeover", ms(pt.took))
	return infoRow(osCurveMeasure(count), fmt.Sprintf("takeover %s (%s); commit %s; RSS %s after the takeover (peak %s after the commits); store file %s%s",
		ms(pt.took), pt.cpu, s.percentiles(), mib(pt.rss), mib(pt.peak), mib(fi.Size()), limitNote), ""), nil
}

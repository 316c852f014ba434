package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// curvePoint is what a cost-curve section measures on a node that has just
// taken over count groups: the takeover, then the commits of one client.
type curvePoint struct {
	took   time.Duration // t0 to the last group's commit downstream
	cpu    string        // the manager's and simulator's CPU over the takeover
	rss    int64         // the manager's RSS once quiet after the takeover
	peak   int64         // its peak RSS after the commits
	run    commitRun     // the timed commits (those timed before a failure, too)
	runErr error         // why the timed commits stopped early, if they did
}

// measureCurvePoint waits for n's downstream to have committed count
// distinct groups since t0 (meters: the CPU meters started at or before
// t0), lets the manager settle, then times curveCommits commits through it
// after a warm-up. A failed timed commit is kept in runErr (the caller
// decides whether it ends the curve); any other failure is returned.
func (h *harness) measureCurvePoint(ctx context.Context, n *osNode, t0 int64, count int, mgrCPU, simCPU func() string) (curvePoint, error) {
	var p curvePoint
	last, err := n.events.waitDistinct(ctx, match{since: t0, op: "commit"}, count, curveWait(count))
	if err != nil {
		return p, fmt.Errorf("takeover: %w", err)
	}
	p.took = time.Duration(last - t0)
	p.cpu = fmt.Sprintf("CPU manager %s, sim %s", mgrCPU(), simCPU())
	if err := sleep(ctx, quiet); err != nil {
		return p, err
	}
	if p.rss, err = rssBytes(n.mgr.pid()); err != nil {
		return p, err
	}
	sock := filepath.Join(n.pluginDir, n.name)
	if _, err := h.commitBatch(ctx, sock, 1, curveWarmup, 0); err != nil {
		return p, fmt.Errorf("warm-up: %w", err)
	}
	p.run, p.runErr = h.commitBatch(ctx, sock, 1, curveCommits, 100)
	if p.peak, err = statusBytes(n.mgr.pid(), "VmHWM"); err != nil {
		return p, err
	}
	return p, nil
}

// storeProbe times probes durable replacements (write, fsync, rename,
// directory fsync) of a file the size of c's store file, in a directory
// beside it on the same disk: the floor under a commit at that size.
func storeProbe(c *osCluster, probes int) (size int64, lat []time.Duration, err error) {
	fi, err := os.Stat(filepath.Join(c.storeDir, "global.config"))
	if err != nil {
		return 0, nil, err
	}
	dir, err := os.MkdirTemp(c.dir, "probe")
	if err != nil {
		return 0, nil, err
	}
	lat, err = fsyncCostOf(dir, int(fi.Size()), probes)
	return fi.Size(), lat, err
}

// follower starts an os cluster named by prefix whose store holds count
// groups and whose leader file names nobody, and a follower node "group"
// (manager and simulator) on it; the caller stops the node.
func (h *harness) follower(ctx context.Context, prefix string, count int) (*osCluster, *osNode, error) {
	c, err := h.newOSCluster(prefix)
	if err != nil {
		return nil, nil, err
	}
	if _, err := c.store(count); err != nil {
		return nil, nil, err
	}
	if _, err := c.setLeader(nobody); err != nil {
		return nil, nil, err
	}
	n, err := c.node(ctx, "group")
	if err != nil {
		return nil, nil, err
	}
	return c, n, nil
}

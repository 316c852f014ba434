package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/infrakit-manager/manager/internal/labscript"
	"github.com/infrakit-manager/manager/sources/swarm"
)

// swarmCurveMeasure names the swarm cost curve's row of count groups.
func swarmCurveMeasure(count int) string {
	return fmt.Sprintf("swarm cost curve, %d groups (1-manager lab): takeover (manager start to last commit); commit p50, 1 client; manager RSS", count)
}

// swarmCurveSkip is swarmSkip: the curve needs a lab of one engine.
func (h *harness) swarmCurveSkip(ctx context.Context) string { return h.swarmSkip(ctx) }

// swarmCurve is swarm mode's cost curve: for each count the whole config
// is one label on the cluster spec (zlib, base64), capped by
// --max-label-bytes (default 1 MiB, under swarmkit's 1.5 MiB Raft entry).
// Counts whose label is larger are reported as not holding, with the
// largest count that does (found by encoding, no engine needed). For each
// count that holds, the label is written on a 1-manager lab, a manager
// starts and takes every group over, then commits through it are timed
// and its RSS read.
func (h *harness) swarmCurve(ctx context.Context) ([]row, error) {
	limit := swarm.DefaultStoreOptions().MaxLabelBytes
	var rows []row
	var fits []int
	for _, count := range h.curveCounts() {
		size, err := labelBytes(count)
		if err != nil {
			return rows, err
		}
		if size > limit {
			most, err := mostInLabel(limit, fits, count)
			if err != nil {
				return rows, err
			}
			rows = append(rows, infoRow(swarmCurveMeasure(count),
				fmt.Sprintf("does not hold: the label would be %s, the limit is %s (--max-label-bytes, under swarmkit's 1.5 MiB Raft entry); "+
					"the largest count of these groups that holds is about %d (measured above)", kib(size), kib(limit), most), ""))
			if len(fits) == 0 || most > fits[len(fits)-1] {
				fits = append(fits, most)
			}
			break
		}
		fits = append(fits, count)
	}
	if len(fits) == 0 {
		return rows, nil
	}
	script, err := filepath.Abs(h.opts.SwarmLab)
	if err != nil {
		return nil, err
	}
	labDir := filepath.Join(h.root, "curvelab")
	l := lab{Script: labscript.Script{Path: script, Env: []string{"LAB=" + labDir, fmt.Sprintf("NETNS=ikc-%d", os.Getpid())}}, n: 1}
	defer func() {
		if _, err := l.run(context.Background(), 2*time.Minute, "down"); err != nil {
			h.log.Error(err, "swarm lab down failed", "path", labDir)
		}
	}()
	if _, err := l.run(ctx, 4*time.Minute, "up", "1"); err != nil {
		return nil, err
	}
	host, err := l.run(ctx, 10*time.Second, "host", "1")
	if err != nil {
		return nil, err
	}
	measured := make([]row, 0, len(fits))
	for _, count := range fits {
		r, err := h.swarmCurveOne(ctx, host, count)
		h.procs.closeAll()
		if err != nil {
			return append(append(measured, failRow(swarmCurveMeasure(count), err)), rows...), err
		}
		measured = append(measured, r)
	}
	return append(measured, rows...), nil
}

// labelBytes is the size of the label holding count bench groups.
func labelBytes(count int) (int, error) {
	cfg, _, err := benchConfig(count)
	if err != nil {
		return 0, err
	}
	v, err := swarm.EncodeLabel(cfg)
	return len(v), err
}

// mostInLabel bisects for the largest count whose label is at most limit,
// between the largest count known to hold and over, one known not to.
func mostInLabel(limit int, fits []int, over int) (int, error) {
	lo, hi := 0, over
	if len(fits) > 0 {
		lo = fits[len(fits)-1]
	}
	for hi-lo > max(1, hi/100) { // to 1%
		mid := (lo + hi) / 2
		size, err := labelBytes(mid)
		if err != nil {
			return 0, err
		}
		if size <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

func (h *harness) swarmCurveOne(ctx context.Context, host string, count int) (row, error) {
	cfg, _, err := benchConfig(count)
	if err != nil {
		return row{}, err
	}
	co := swarm.DefaultClientOptions()
	co.Host, co.CallTimeout = host, 30*time.Second
	cl, err := swarm.NewClient(co)
	if err != nil {
		return row{}, err
	}
	defer cl.Close()
	st, err := swarm.NewStore(cl, swarm.DefaultStoreOptions())
	if err != nil {
		return row{}, err
	}
	_, v, err := st.Load(ctx)
	if err != nil {
		return row{}, err
	}
	if _, err := st.Save(ctx, cfg, v); err != nil {
		return row{}, fmt.Errorf("write the label: %w", err)
	}
	n := &osNode{name: "group", pluginDir: filepath.Join(h.root, fmt.Sprintf("swc%d", count))}
	if err := os.MkdirAll(n.pluginDir, 0o700); err != nil {
		return row{}, err
	}
	n.events = &tailer{path: filepath.Join(n.pluginDir, "events")}
	if n.sim, err = h.startSim(ctx, n.pluginDir, downstream, "--events", n.events.path); err != nil {
		return row{}, err
	}
	defer n.stop()
	t0 := time.Now().UnixNano()
	n.mgr, err = h.startProcess(ctx, filepath.Join(n.pluginDir, n.name), h.bin(binManager),
		"--name", n.name, "--plugin-dir", n.pluginDir, "swarm", "--host", host)
	if err != nil {
		return row{}, err
	}
	mgrCPU, simCPU := cpuMeter(n.mgr.pid()), cpuMeter(n.sim.pid())
	pt, err := h.measureCurvePoint(ctx, n, t0, count, mgrCPU, simCPU)
	if err != nil {
		return row{}, err
	}
	// A commit the engine does not answer in time (its 1 s call timeout,
	// on a loaded machine) is part of the figure, not the end of the curve.
	commits := "commit "
	if pt.runErr != nil {
		commits = fmt.Sprintf("a commit failed after %d timed: %v; those: ", len(pt.run.lat), pt.runErr)
	}
	size, err := labelBytes(count)
	if err != nil {
		return row{}, err
	}
	s := summarize(pt.run.lat)
	h.log.Info("swarm curve done", "groups", count, "takeover", ms(pt.took))
	return infoRow(swarmCurveMeasure(count), fmt.Sprintf("takeover %s (%s; CPU counted from the manager's start); %s%s; RSS %s after the takeover (peak %s after the commits); label %s",
		ms(pt.took), pt.cpu, commits, s.percentiles(), mib(pt.rss), mib(pt.peak), kib(size)), ""), nil
}

// kib renders a byte count in KiB.
func kib(b int) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }

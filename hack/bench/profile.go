package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/sources"
)

// profile runs the controller in this process (the simulator stays a
// separate process) under a CPU profile: once for the largest takeover,
// once for sequential commits. The profiles are for `go tool pprof`.
func (h *harness) profile(ctx context.Context) ([]row, error) {
	if err := os.MkdirAll(h.opts.CPUProfileDir, 0o755); err != nil {
		return nil, err
	}
	c, err := h.newOSCluster("p")
	if err != nil {
		return nil, err
	}
	count := 0
	for _, n := range h.opts.Takeovers {
		count = max(count, n)
	}
	if _, err := c.store(count); err != nil {
		return nil, err
	}
	if _, err := c.setLeader(nobody); err != nil {
		return nil, err
	}
	pluginDir := filepath.Join(c.dir, "p")
	if err := os.MkdirAll(pluginDir, 0o700); err != nil {
		return nil, err
	}
	events := &tailer{path: filepath.Join(c.dir, "events")}
	sim, err := h.startSim(ctx, pluginDir, downstream, "--events", events.path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sim.stop() }()

	lo := sources.DefaultFileLeadershipOptions()
	lo.Path, lo.Name, lo.PollInterval = c.leaderFile, "group", 5*time.Second
	lead, err := sources.NewFileLeadership(lo)
	if err != nil {
		return nil, err
	}
	store, err := sources.NewFileStore(sources.FileStoreOptions{Dir: c.storeDir})
	if err != nil {
		return nil, err
	}
	o := controller.DefaultOptions()
	o.Name, o.PluginDir, o.Leadership, o.Store = "group", pluginDir, lead, store
	m, err := controller.New(o)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ctx); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		_ = m.Stop(sctx)
	}()
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return nil, err
	}

	takeoverProf := filepath.Join(h.opts.CPUProfileDir, "takeover.pprof")
	var took time.Duration
	err = withCPUProfile(takeoverProf, func() error {
		t0, err := c.setLeader("group")
		if err != nil {
			return err
		}
		last, err := events.waitDistinct(ctx, match{since: t0, op: "commit"}, count, time.Minute)
		took = time.Duration(last - t0)
		return err
	})
	if err != nil {
		return nil, err
	}

	commitProf := filepath.Join(h.opts.CPUProfileDir, "commit.pprof")
	var run commitRun
	err = withCPUProfile(commitProf, func() error {
		var err error
		run, err = h.commitBatch(ctx, m.SocketPath(), 1, h.opts.Commits, 1)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := summarize(run.lat)
	return []row{
		infoRow(fmt.Sprintf("in-process takeover of %d groups under a CPU profile", count),
			fmt.Sprintf("%s; profile %s", ms(took), takeoverProf), ""),
		infoRow("in-process commits under a CPU profile", fmt.Sprintf("%s; profile %s", s.percentiles(), commitProf), ""),
	}, nil
}

func withCPUProfile(path string, f func() error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	err = f()
	pprof.StopCPUProfile()
	return err
}

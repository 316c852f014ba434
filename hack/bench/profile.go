package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// profile runs the controller in this process (the simulator stays a
// separate process) under a CPU profile, once for the largest takeover and
// once for sequential commits into an empty store; the commits also time
// the controller's store and downstream calls, which splits a commit's
// latency into its parts. The profiles are for `go tool pprof`.
func (h *harness) profile(ctx context.Context) ([]row, error) {
	if err := os.MkdirAll(h.opts.CPUProfileDir, 0o755); err != nil {
		return nil, err
	}
	rows, err := h.profileTakeover(ctx)
	if err != nil {
		return rows, err
	}
	more, err := h.profileCommits(ctx)
	return append(rows, more...), err
}

// inProcess is a controller in this process over a cluster's leader file
// and store, driving a simulator process through timing wrappers.
type inProcess struct {
	m      *controller.Manager
	sim    *proc
	events *tailer
	store  *timedStore
	down   *timedGroup
}

func (h *harness) startInProcess(ctx context.Context, c *osCluster) (*inProcess, error) {
	pluginDir := filepath.Join(c.dir, "p")
	if err := os.MkdirAll(pluginDir, 0o700); err != nil {
		return nil, err
	}
	ip := &inProcess{events: &tailer{path: filepath.Join(c.dir, "events")}}
	var err error
	if ip.sim, err = h.startSim(ctx, pluginDir, downstream, "--events", ip.events.path); err != nil {
		return nil, err
	}
	lo := file.DefaultLeadershipOptions()
	lo.Path, lo.Name = c.leaderFile, "group"
	lead, err := file.NewLeadership(lo)
	if err != nil {
		return nil, err
	}
	so := file.DefaultStoreOptions()
	so.Dir = c.storeDir
	fs, err := file.NewStore(so)
	if err != nil {
		return nil, err
	}
	o := controller.DefaultOptions()
	d, err := sink.New(sink.Options{Dir: plugin.Dir{Path: pluginDir}, Name: downstream, CallTimeout: o.CallTimeout})
	if err != nil {
		return nil, err
	}
	ip.store, ip.down = &timedStore{Store: fs}, &timedGroup{Group: d}
	o.Name, o.PluginDir, o.Leadership, o.Store, o.Downstream = "group", pluginDir, lead, ip.store, ip.down
	if ip.m, err = controller.New(o); err != nil {
		return nil, err
	}
	if err := ip.m.Start(ctx); err != nil {
		return nil, err
	}
	return ip, nil
}

func (ip *inProcess) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	_ = ip.m.Stop(ctx)
	_ = ip.sim.stop()
}

func (h *harness) profileTakeover(ctx context.Context) ([]row, error) {
	c, err := h.newOSCluster("pt")
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
	ip, err := h.startInProcess(ctx, c)
	if err != nil {
		return nil, err
	}
	defer ip.stop()
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return nil, err
	}
	path := filepath.Join(h.opts.CPUProfileDir, "takeover.pprof")
	var first, last, t0 int64
	simBefore, _ := cpuTime(ip.sim.pid())
	selfBefore, _ := cpuTime(os.Getpid())
	err = withCPUProfile(path, func() error {
		var err error
		if t0, err = c.setLeader("group"); err != nil {
			return err
		}
		if first, err = ip.events.waitFirst(ctx, match{since: t0, op: "commit"}, time.Minute); err != nil {
			return err
		}
		last, err = ip.events.waitDistinct(ctx, match{since: t0, op: "commit"}, count, time.Minute)
		return err
	})
	if err != nil {
		return nil, err
	}
	simAfter, _ := cpuTime(ip.sim.pid())
	selfAfter, _ := cpuTime(os.Getpid())
	loads := summarize(ip.store.loads())
	rows := []row{infoRow(fmt.Sprintf("in-process takeover of %d groups under a CPU profile", count),
		fmt.Sprintf("%s; first commit at %s; store load p50 %s; CPU: manager+harness %s, sim %s; profile %s",
			ms(time.Duration(last-t0)), ms(time.Duration(first-t0)), ms(loads.P50),
			ms(selfAfter-selfBefore), ms(simAfter-simBefore), path), "")}
	r, err := h.profiledCommits(ctx, ip, loadedCommits, fmt.Sprintf("holding %d groups", count), "commit-loaded.pprof")
	return append(rows, r...), err
}

func (h *harness) profileCommits(ctx context.Context) ([]row, error) {
	c, err := h.newOSCluster("pc")
	if err != nil {
		return nil, err
	}
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	ip, err := h.startInProcess(ctx, c)
	if err != nil {
		return nil, err
	}
	defer ip.stop()
	if _, err := h.commitBatch(ctx, ip.m.SocketPath(), 1, 20, 0); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	return h.profiledCommits(ctx, ip, h.opts.Commits, "empty store", "commit.pprof")
}

// profiledCommits times n sequential commits through an in-process
// controller under a CPU profile and splits their p50 into parts.
func (h *harness) profiledCommits(ctx context.Context, ip *inProcess, n int, what, file string) ([]row, error) {
	ip.store.reset()
	ip.down.reset()
	// The fsync probe runs beside the commits (half before, half after), so
	// that Save is compared with the disk at the same time.
	probeDir, err := os.MkdirTemp(h.root, "probe")
	if err != nil {
		return nil, err
	}
	probes, err := fsyncCost(probeDir, max(n/2, 10))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(h.opts.CPUProfileDir, file)
	var run commitRun
	err = withCPUProfile(path, func() error {
		var err error
		run, err = h.commitBatch(ctx, ip.m.SocketPath(), 1, n, 100)
		return err
	})
	if err != nil {
		return nil, err
	}
	after, err := fsyncCost(probeDir, max(n/2, 10))
	if err != nil {
		return nil, err
	}
	total, loads, saves := summarize(run.lat), summarize(ip.store.loads()), summarize(ip.store.saves())
	pretend, commit, probe := summarize(ip.down.pretends()), summarize(ip.down.commits()), summarize(append(probes, after...))
	rest := total.P50 - loads.P50 - saves.P50 - pretend.P50 - commit.P50
	staged := ""
	if prep, fin := summarize(ip.store.prepare.take()), summarize(ip.store.commit.take()); prep.N > 0 {
		// Prepare overlaps the pretend RPC, so the parts no longer add up:
		// rest is what the client waited beyond the serial parts.
		rest -= fin.P50
		staged = fmt.Sprintf(" + store Commit %s (store Prepare %s, beside the pretend RPC)", ms(fin.P50), ms(prep.P50))
	}
	return []row{infoRow(fmt.Sprintf("in-process commit, 1 client, %s: parts (p50, n=%d)", what, total.N),
		fmt.Sprintf("total %s = pretend RPC %s + store Load %s + store Save %s%s + commit RPC %s + rest %s "+
			"(fsync probe at the same time: %s); profile %s",
			ms(total.P50), ms(pretend.P50), ms(loads.P50), ms(saves.P50), staged, ms(commit.P50), signedMs(rest),
			ms(probe.P50), path), "")}, nil
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

// durations is a concurrency-safe list of timings.
type durations struct {
	mu sync.Mutex
	ds []time.Duration
}

func (d *durations) add(since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ds = append(d.ds, time.Since(since))
}

func (d *durations) take() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.ds...)
}

func (d *durations) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ds = nil
}

// timedStore times a Store's calls, and those of its two-phase save when
// the controller uses it (sources.Stager).
type timedStore struct {
	sources.Store
	load, save, prepare, commit durations
}

var (
	_ sources.Store  = (*timedStore)(nil)
	_ sources.Stager = (*timedStore)(nil)
)

// Prepare times the wrapped store's Prepare, and the Commit of its result.
func (s *timedStore) Prepare(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Pending, error) {
	st, ok := s.Store.(sources.Stager)
	if !ok {
		return nil, fmt.Errorf("bench: %T is not a sources.Stager", s.Store)
	}
	t := time.Now()
	p, err := st.Prepare(ctx, cfg, v)
	s.prepare.add(t)
	if err != nil {
		return nil, err
	}
	return &timedPending{Pending: p, s: s}, nil
}

// timedPending times a prepared save's Commit.
type timedPending struct {
	sources.Pending
	s *timedStore
}

func (p *timedPending) Commit(ctx context.Context) (sources.Version, error) {
	defer p.s.commit.add(time.Now())
	return p.Pending.Commit(ctx)
}

func (s *timedStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	defer s.load.add(time.Now())
	return s.Store.Load(ctx)
}

func (s *timedStore) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	defer s.save.add(time.Now())
	return s.Store.Save(ctx, cfg, v)
}

func (s *timedStore) loads() []time.Duration { return s.load.take() }
func (s *timedStore) saves() []time.Duration { return s.save.take() }
func (s *timedStore) reset() {
	s.load.reset()
	s.save.reset()
	s.prepare.reset()
	s.commit.reset()
}

// timedGroup times a downstream's commits.
type timedGroup struct {
	plugin.Group
	pretend, commit durations
}

var _ plugin.Group = (*timedGroup)(nil)

func (g *timedGroup) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	if pretend {
		defer g.pretend.add(time.Now())
	} else {
		defer g.commit.add(time.Now())
	}
	return g.Group.CommitGroup(ctx, spec, pretend)
}

func (g *timedGroup) pretends() []time.Duration { return g.pretend.take() }
func (g *timedGroup) commits() []time.Duration  { return g.commit.take() }
func (g *timedGroup) reset()                    { g.pretend.reset(); g.commit.reset() }

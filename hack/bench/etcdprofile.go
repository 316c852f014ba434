package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd"
)

// etcdTimedStore times an etcd Store's Load and saves (Save and
// SaveChanged alike). Unlike timedStore it offers no two-phase save, as
// etcd.Store has none.
type etcdTimedStore struct {
	*etcd.Store
	load, save durations
}

var _ sources.ChangeSaver = (*etcdTimedStore)(nil)

func (s *etcdTimedStore) SaveChanged(ctx context.Context, cfg sources.Config, v sources.Version, changed []plugin.ID) (sources.Version, error) {
	defer s.save.add(time.Now())
	return s.Store.SaveChanged(ctx, cfg, v, changed)
}

func (s *etcdTimedStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	defer s.load.add(time.Now())
	return s.Store.Load(ctx)
}

func (s *etcdTimedStore) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	defer s.save.add(time.Now())
	return s.Store.Save(ctx, cfg, v)
}

// etcdProfile runs the controller in this process on prefix (etcd
// leadership and a fenced etcd store, as `infrakit-manager etcd` wires
// them; the simulator a separate process), waits until it runs the count
// stored groups, then times sequential commits under a CPU profile and
// splits their p50 into the store's Save, the downstream's pretend and real
// commits, and the rest.
func (h *harness) etcdProfile(ctx context.Context, endpoints []string, prefix string, count int) (row, error) {
	if err := os.MkdirAll(h.opts.CPUProfileDir, 0o755); err != nil {
		return row{}, err
	}
	pluginDir := filepath.Join(h.root, fmt.Sprintf("ep%d", count))
	if err := os.MkdirAll(pluginDir, 0o700); err != nil {
		return row{}, err
	}
	events := &tailer{path: pluginDir + ".events"}
	sim, err := h.startSim(ctx, pluginDir, downstream, "--events", events.path)
	if err != nil {
		return row{}, err
	}
	defer func() { _ = sim.stop() }()
	cli, err := newEtcdClient(endpoints)
	if err != nil {
		return row{}, err
	}
	defer cli.Close()
	o := controller.DefaultOptions()
	o.Handover = controller.HandoverFast
	lo := etcd.DefaultLeadershipOptions()
	lo.Prefix, lo.Name, lo.Log = prefix, "in-process", logr.Discard()
	lo.CallTimeout = min(lo.CallTimeout, lo.LeaseDuration/3)
	lead, err := etcd.NewLeadership(cli, lo)
	if err != nil {
		return row{}, err
	}
	defer lead.Close()
	so := etcd.DefaultStoreOptions()
	so.Prefix, so.Fence, so.CallTimeout = prefix, lead, lo.CallTimeout
	st, err := etcd.NewStore(cli, so)
	if err != nil {
		return row{}, err
	}
	defer st.Close()
	d, err := sink.New(sink.Options{Dir: plugin.Dir{Path: pluginDir}, Name: downstream, CallTimeout: o.CallTimeout})
	if err != nil {
		return row{}, err
	}
	store, down := &etcdTimedStore{Store: st}, &timedGroup{Group: d}
	o.Name, o.PluginDir, o.Leadership, o.Store, o.Downstream = "group", pluginDir, lead, store, down
	o.LeaseDuration = lo.LeaseDuration
	m, err := controller.New(o)
	if err != nil {
		return row{}, err
	}
	if err := m.Start(ctx); err != nil {
		return row{}, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		_ = m.Stop(sctx)
	}()
	if _, err := events.waitDistinct(ctx, match{op: "commit"}, count, etcdEventWait+time.Duration(count)*5*time.Millisecond); err != nil {
		return row{}, err
	}
	if _, err := h.commitBatch(ctx, m.SocketPath(), 1, 20, 0); err != nil {
		return row{}, fmt.Errorf("warm-up: %w", err)
	}
	store.save.reset()
	store.load.reset()
	down.reset()
	path := filepath.Join(h.opts.CPUProfileDir, fmt.Sprintf("etcd-commit-%d.pprof", count))
	var run commitRun
	err = withCPUProfile(path, func() error {
		var err error
		run, err = h.commitBatch(ctx, m.SocketPath(), 1, h.opts.Commits, 100)
		return err
	})
	if err != nil {
		return row{}, err
	}
	total, saves, loads := summarize(run.lat), summarize(store.save.take()), summarize(store.load.take())
	pretend, commit := summarize(down.pretends()), summarize(down.commits())
	rest := total.P50 - saves.P50 - pretend.P50 - commit.P50
	return infoRow(fmt.Sprintf("etcd: in-process commit, 1 client, %d groups stored: parts (p50, n=%d)", count, total.N),
		fmt.Sprintf("total %s = pretend RPC %s + store Save %s + commit RPC %s + rest %s (store Loads during the commits: %d); profile %s",
			ms(total.P50), ms(pretend.P50), ms(saves.P50), ms(commit.P50), signedMs(rest), loads.N, path), ""), nil
}

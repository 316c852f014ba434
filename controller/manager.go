package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/sources"
)

// Options configure a Manager. Start from DefaultOptions.
type Options struct {
	// Name is the socket name the manager serves the Group API under, and
	// its identity in the leader file (os mode). Defaults to "group".
	Name string
	// PluginDir is the plugin directory. Defaults to plugin.DefaultDir().
	PluginDir string
	// ProxyFor is the downstream group plugin's name. Defaults to
	// "group-stateless".
	ProxyFor string
	// Leadership says whether this replica leads. Required.
	Leadership sources.Leadership
	// Store holds the committed groups. Required.
	Store sources.Store
	// Downstream is the group plugin to drive. Defaults to a sink over
	// PluginDir/ProxyFor with CallTimeout.
	Downstream plugin.Group
	// CallTimeout bounds every downstream call. Defaults to 2s. A hung
	// plugin never delays a handover whatever its value: leadership is
	// watched on its own goroutine and losing it cancels in-flight calls.
	CallTimeout time.Duration
	// ResyncInterval is how often both sides are re-read and every group is
	// re-checked, which re-commits groups to a restarted downstream.
	// Defaults to 10s.
	ResyncInterval time.Duration
	// Workers is the number of groups reconciled concurrently. Defaults to 8.
	Workers int
	// MaxBackoff caps the per-group retry delay. Defaults to the work
	// queue's default.
	MaxBackoff time.Duration
	// Clock drives timers. Defaults to the real clock.
	Clock clock.WithTicker
	// Log is the logger. Defaults to discard.
	Log logr.Logger
}

// DefaultOptions returns the defaults; Leadership and Store must still be set.
func DefaultOptions() Options {
	return Options{
		Name:           "group",
		PluginDir:      plugin.DefaultDir(),
		ProxyFor:       "group-stateless",
		CallTimeout:    2 * time.Second,
		ResyncInterval: 10 * time.Second,
		Workers:        8,
		Clock:          clock.RealClock{},
		Log:            logr.Discard(),
	}
}

func (o *Options) validate() error {
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	var errs []error
	for _, f := range []struct{ name, val string }{{"Name", o.Name}, {"PluginDir", o.PluginDir}, {"ProxyFor", o.ProxyFor}} {
		if f.val == "" {
			errs = append(errs, fmt.Errorf("controller: Options.%s must not be empty", f.name))
		}
	}
	if o.Name == o.ProxyFor && o.Name != "" {
		errs = append(errs, fmt.Errorf("controller: Options.Name and Options.ProxyFor are both %q: the manager would proxy to itself", o.Name))
	}
	for _, f := range []struct {
		name string
		val  time.Duration
	}{{"CallTimeout", o.CallTimeout}, {"ResyncInterval", o.ResyncInterval}} {
		if f.val <= 0 {
			errs = append(errs, fmt.Errorf("controller: Options.%s must be positive, got %s", f.name, f.val))
		}
	}
	if o.Workers <= 0 {
		errs = append(errs, fmt.Errorf("controller: Options.Workers must be positive, got %d", o.Workers))
	}
	if o.Leadership == nil {
		errs = append(errs, errors.New("controller: Options.Leadership is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("controller: Options.Store is required"))
	}
	return errors.Join(errs...)
}

// Manager is the embeddable daemon: the Group API socket, the leadership
// watch, the sync loop and the reconcile workers.
type Manager struct {
	opts Options
	r    *reconciler
	f    *front

	mu      sync.Mutex
	started bool
	server  *plugin.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped chan struct{}
	stopErr error
}

// New validates opts and builds a Manager. It touches nothing on disk.
func New(opts Options) (*Manager, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	down := opts.Downstream
	if down == nil {
		so := sink.DefaultOptions(opts.PluginDir)
		so.Name, so.CallTimeout, so.Log = opts.ProxyFor, opts.CallTimeout, opts.Log.WithName("sink")
		d, err := sink.New(so)
		if err != nil {
			return nil, err
		}
		down = d
	}
	r, err := newReconciler(opts.Store, down, &opts)
	if err != nil {
		return nil, err
	}
	return &Manager{
		opts:    opts,
		r:       r,
		f:       &front{r: r, pluginName: opts.ProxyFor, log: opts.Log},
		stopped: make(chan struct{}),
	}, nil
}

// SocketPath is where the Group API is served.
func (m *Manager) SocketPath() string { return filepath.Join(m.opts.PluginDir, m.opts.Name) }

// Group returns the Group API the manager serves, for in-process callers.
func (m *Manager) Group() plugin.Group { return m.f }

// Start checks leadership once (so the first answer is right: no blind
// window), serves the Group API and starts the loops. It returns once the
// socket accepts connections. ctx bounds only the start-up.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("controller: manager already started")
	}
	m.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel

	leader, err := m.opts.Leadership.Check(ctx)
	if err != nil {
		m.opts.Log.Info("leadership unknown at start, not leading", "error", err.Error())
	}
	m.r.setLeader(runCtx, leader && err == nil)

	srv, err := plugin.Serve(m.SocketPath(), m.f, plugin.ServerOptions{Log: m.opts.Log.WithName("server")})
	if err != nil {
		cancel()
		close(m.stopped)
		return fmt.Errorf("serve group API: %w", err)
	}
	m.server = srv
	m.opts.Log.Info("listening", "path", m.SocketPath(), "proxyFor", m.opts.ProxyFor, "leader", leader)

	m.wg.Add(2 + m.opts.Workers)
	go func() {
		defer m.wg.Done()
		if err := m.opts.Leadership.Watch(runCtx, func(l bool) { m.r.setLeader(runCtx, l) }); err != nil && runCtx.Err() == nil {
			m.opts.Log.Error(err, "leadership watch ended")
		}
	}()
	go func() { defer m.wg.Done(); m.r.runSync(runCtx) }()
	for range m.opts.Workers {
		go func() { defer m.wg.Done(); m.r.runWorker(runCtx) }()
	}
	return nil
}

// Stop stops accepting requests, lets in-flight ones finish, removes the
// socket and stops the loops. Groups keep running downstream: a restart of
// the manager must not disturb them. Stop is idempotent.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if !m.started {
		m.started = true
		close(m.stopped)
		m.mu.Unlock()
		return nil
	}
	select {
	case <-m.stopped:
		m.mu.Unlock()
		return m.stopErr
	default:
	}
	m.mu.Unlock()

	var errs []error
	if m.server != nil {
		errs = append(errs, m.server.Stop(ctx))
	}
	m.r.queue.ShutDown()
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("controller: stop: %w", ctx.Err()))
	}
	m.mu.Lock()
	m.stopErr = errors.Join(errs...)
	close(m.stopped)
	m.mu.Unlock()
	return m.stopErr
}

// RunOnce is --once: one leadership check and one reconcile pass, printing
// each action and its outcome to out. With dryRun it prints the plan and
// acts on nothing. It does not serve the socket.
func (m *Manager) RunOnce(ctx context.Context, out io.Writer, dryRun bool) (Summary, error) {
	leader, err := m.opts.Leadership.Check(ctx)
	if err != nil {
		fmt.Fprintf(out, "leadership unknown (%v): acting as follower\n", err)
		leader = false
	}
	return m.r.runOnce(ctx, leader, out, dryRun)
}

package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/infrakit-manager/manager/internal/logging"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
)

// Manager is the embeddable daemon: the Group API socket, the lease, the
// sync loop and the reconcile workers.
type Manager struct {
	opts Options
	r    *reconciler
	h    *handover
	f    *front
	poke chan struct{}

	mu      sync.Mutex
	started bool
	server  *plugin.Server
	tcp     *plugin.Server // nil without Options.TCP
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	stopOnce sync.Once
	stopped  chan struct{}
	stopErr  error
}

// New validates opts and builds a Manager. It touches nothing on disk.
func New(opts Options) (*Manager, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	down := opts.Downstream
	if down == nil {
		so := sink.DefaultOptions(opts.PluginDir)
		so.Name, so.CallTimeout, so.Log = opts.ProxyFor, opts.CallTimeout, opts.Log.WithName("sink")
		if opts.Metrics != nil {
			so.Observer = opts.Metrics
		}
		d, err := sink.New(so)
		if err != nil {
			return nil, err
		}
		down = d
		opts.Claims = append(opts.Claims, DownstreamClaim(opts.PluginDir, opts.ProxyFor, opts.Name))
	}
	r, err := newReconciler(&opts, opts.Store, down)
	if err != nil {
		return nil, err
	}
	r.lease.o.fenced = opts.Handover == HandoverFenced
	h := newHandover(&opts, r)
	loc := &locator{store: opts.Locations, advertise: opts.Advertise, lease: r.lease, clock: opts.Clock,
		every: cmp.Or(opts.LocationInterval, opts.RenewInterval), timeout: opts.CheckTimeout, log: opts.Log.WithName("location")}
	r.store.(*boundedStore).log = opts.Log.WithName("store")
	m := &Manager{
		opts: opts,
		r:    r,
		h:    h,
		f: &front{r: r, name: opts.Name, mode: opts.Mode, storeLocation: opts.StoreLocation,
			pluginName: opts.ProxyFor, applyWait: opts.applyWait(), log: opts.Log, loc: loc},
		poke:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	m.addChecks()
	return m, nil
}

// SocketPath is where the Group API is served.
func (m *Manager) SocketPath() string { return filepath.Join(m.opts.PluginDir, m.opts.Name) }

// Group returns the Group API the manager serves, for in-process callers.
func (m *Manager) Group() plugin.Group { return m.f }

// Served is what the socket and the TCP listener serve: the Group API,
// wrapped by Options.Wrap when set.
func (m *Manager) Served() plugin.Group {
	if m.opts.Wrap != nil {
		return m.opts.Wrap(m.f)
	}
	return m.f
}

// TCPAddr is the address the TCP listener is bound to, "" without one.
func (m *Manager) TCPAddr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tcp == nil {
		return ""
	}
	return m.tcp.Addr().String()
}

// Role returns this replica's role now.
func (m *Manager) Role() Role { return m.r.lease.view().Role }

// Start checks leadership once (so the first answer is right: no blind
// window), serves the Group API and starts the loops. It returns once the
// socket accepts connections. ctx bounds only the start-up.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("manager already started")
	}
	m.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.r.lease.setBase(runCtx)
	if _, err := m.r.lease.checkNow(ctx); err != nil {
		m.opts.Log.Error(err, "leadership unknown at start, acting on nothing until it is known or the lease runs out",
			"lease", m.opts.LeaseDuration.String())
	}
	m.h.settle(ctx)

	so := plugin.DefaultServerOptions()
	so.Log = m.opts.Log.WithName("server")
	if m.opts.Metrics != nil {
		so.Observer = m.opts.Metrics
	}
	served := m.Served()
	srv, err := plugin.Serve(m.SocketPath(), served, so)
	if err != nil {
		cancel()
		return fmt.Errorf("serve group API: %w", err)
	}
	// Claims after the socket: a second manager on the same socket is
	// refused by Serve, naming it, before it touches any lock file.
	if err := m.takeClaims(); err != nil {
		_ = srv.Stop(ctx)
		cancel()
		return err
	}
	m.server = srv
	m.opts.Log.Info("listening", "path", m.SocketPath(), "proxyFor", m.opts.ProxyFor,
		"role", m.Role().String(), "lease", m.opts.LeaseDuration.String())
	if t := m.opts.TCP; t != nil {
		if t.TLS == nil && !plugin.IsLoopback(t.Addr) {
			logging.Warn(m.opts.Log, "serving the Group API over plaintext TCP on a non-loopback address (--insecure): anyone who reaches it can change groups",
				"addr", t.Addr)
		}
		tcp, err := plugin.ServeTCP(served, *t, so)
		if err != nil {
			m.server = nil
			_ = srv.Stop(ctx)
			m.releaseClaims()
			cancel()
			return fmt.Errorf("serve group API over TCP: %w", err)
		}
		m.tcp = tcp
		m.opts.Log.Info("listening", "url", tcp.Path(), "tls", t.TLS != nil,
			"mutualTLS", t.TLS != nil && t.TLS.ClientCAs != nil, "advertise", m.opts.Advertise)
	}

	m.wg.Add(5 + m.opts.Workers)
	go func() { defer m.wg.Done(); m.f.loc.run(runCtx) }()
	go func() { defer m.wg.Done(); m.runHealth(runCtx) }()
	go func() { defer m.wg.Done(); m.r.lease.run(runCtx, m.poke) }()
	go func() {
		defer m.wg.Done()
		if err := m.opts.Leadership.Watch(runCtx, m.pokeLease); err != nil && runCtx.Err() == nil {
			m.opts.Log.Error(err, "leadership watch ended; renewals go on")
		}
	}()
	go func() { defer m.wg.Done(); m.r.runSync(runCtx) }()
	for range m.opts.Workers {
		go func() { defer m.wg.Done(); m.r.runWorker(runCtx) }()
	}
	return nil
}

// pokeLease asks the lease to check at once; it never blocks.
func (m *Manager) pokeLease() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

// Recheck re-checks leadership and re-reads the store and the downstream
// at once (SIGHUP). It never blocks.
func (m *Manager) Recheck(reason string) {
	m.opts.Log.Info("re-checking leadership and store", "reason", reason)
	m.pokeLease()
	m.r.triggerSync()
}

// Stop stops accepting requests, lets in-flight ones finish, removes the
// socket and stops the loops. Groups keep running downstream: a restart of
// the manager must not disturb them. Stop is idempotent and safe to call
// from several goroutines: the first call's ctx bounds the shutdown, every
// caller waits for it (or its own ctx) and gets its result.
func (m *Manager) Stop(ctx context.Context) error {
	m.stopOnce.Do(func() {
		go func() {
			m.stopErr = m.shutdown(ctx)
			close(m.stopped)
		}()
	})
	select {
	case <-m.stopped:
		return m.stopErr
	case <-ctx.Done():
		return fmt.Errorf("stop: %w", ctx.Err())
	}
}

func (m *Manager) shutdown(ctx context.Context) error {
	m.mu.Lock()
	started, srv, tcp, cancel := m.started, m.server, m.tcp, m.cancel
	m.started = true // a Start after Stop fails
	m.mu.Unlock()
	if !started {
		return nil
	}
	var errs []error
	if srv != nil {
		errs = append(errs, srv.Stop(ctx))
	}
	if tcp != nil {
		errs = append(errs, tcp.Stop(ctx))
	}
	if cancel != nil { // first: workers drain what the queue still holds without acting
		cancel()
	}
	m.r.queue.ShutDown()
	done := make(chan struct{})
	go func() { m.wg.Wait(); m.h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("stop: %w", ctx.Err()))
	}
	m.releaseClaims()
	return errors.Join(errs...)
}

// RunOnce is --once: one leadership check and one reconcile pass through
// the same plan and execute steps as the daemon, printing each action and
// its outcome to out. With dryRun it prints the plan and acts on nothing.
// Unknown leadership, an unreadable or vanished store, or a claim held by
// another manager act on nothing and return an error (exit 1). It does not serve the socket.
func (m *Manager) RunOnce(ctx context.Context, out io.Writer, dryRun bool) (Summary, error) {
	if !dryRun {
		defer m.releaseClaims()
		if err := m.takeClaims(); err != nil {
			fmt.Fprintf(out, "acting on nothing: %v\n", err)
			return Summary{}, err
		}
	}
	m.r.lease.setBase(ctx)
	_, err := m.r.lease.checkNow(ctx)
	if role := m.Role(); role == RoleUnknown {
		fmt.Fprintf(out, "leadership unknown (%v): acting on nothing\n", err)
		return Summary{}, fmt.Errorf("%w: %w", ErrLeadershipUnknown, err)
	}
	m.h.waitCurrent(ctx)
	return m.r.runOnce(ctx, out, dryRun)
}

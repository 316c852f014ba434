package reconciler

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/controllertest"
	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// manager runs a reconciler the way the daemon (package controller) does,
// with the front over it, without a socket or claims.
type manager struct {
	r      *Reconciler
	f      *front.Front
	poke   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// noLocation is a front.Locator that knows no leader location.
type noLocation struct{}

func (noLocation) Location(lease.View) *url.URL { return nil }

func (m *manager) Group() plugin.Group { return m.f }
func (m *manager) Role() lease.Role    { return m.r.lease.View().Role }

// Recheck re-checks leadership and re-reads both sides at once.
func (m *manager) Recheck(string) {
	select {
	case m.poke <- struct{}{}:
	default:
	}
	m.r.Resync()
}

// RunOnce is the daemon's --once without claims.
func (m *manager) RunOnce(ctx context.Context, out io.Writer, dryRun bool) (Summary, error) {
	m.r.lease.SetBase(ctx)
	err := m.r.lease.CheckNow(ctx)
	if m.Role() == lease.RoleUnknown {
		return Summary{}, fmt.Errorf("leadership unknown: %w", err)
	}
	return m.r.RunOnce(ctx, out, dryRun)
}

// env is one reconciler wired to in-memory fakes.
type env struct {
	m      *manager
	store  *sourcestest.MemStore
	leader *sourcestest.StaticLeadership
	down   *controllertest.Recorder
	dir    string
	o      Options
}

func newEnv(t *testing.T, leader bool, mutate ...func(*Options)) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "ikr")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	e := &env{
		store:  sourcestest.NewMemStore(),
		leader: sourcestest.NewStaticLeadership(leader),
		down:   controllertest.NewRecorder(t),
		dir:    dir,
	}
	o := DefaultOptions()
	o.Handover = HandoverFast
	o.PluginDir = dir
	o.Leadership, o.Store, o.Downstream = e.leader, e.store, e.down
	o.ResyncInterval = time.Hour
	o.Log = testr.New(t)
	for _, f := range mutate {
		f(&o)
	}
	o.ApplyWait = o.CheckTimeout + 2*o.CallTimeout + time.Second // as the daemon's Options
	r, err := New(o)
	require.NoError(t, err)
	fo := front.DefaultOptions()
	fo.Reconciler, fo.Lease, fo.Downstream, fo.Locator = r, r.lease, o.Downstream, noLocation{}
	fo.Name, fo.PluginName, fo.Log = o.Name, o.ProxyFor, o.Log
	f, err := front.New(fo)
	require.NoError(t, err)
	e.m, e.o = &manager{r: r, f: f, poke: make(chan struct{}, 1)}, o
	return e
}

// start runs the loops as the daemon's Start does; cleanup stops them.
func (e *env) start(t *testing.T) {
	t.Helper()
	m := e.m
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.r.lease.SetBase(ctx)
	_ = m.r.lease.CheckNow(t.Context())
	m.r.Settle(t.Context())
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.r.Run(ctx, m.poke) }()
	go func() {
		defer m.wg.Done()
		_ = e.o.Leadership.Watch(ctx, func() {
			select {
			case m.poke <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		m.r.ShutDown()
		done := make(chan struct{})
		go func() { m.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the reconciler's loops did not stop")
		}
	})
}

func spec(id string, size int) plugin.Spec { return controllertest.Spec(id, size) }

// running lists the IDs the downstream runs.
func (e *env) running(t *testing.T) []plugin.ID { return controllertest.Running(t, e.down) }

func (e *env) stored(t *testing.T) []plugin.ID { return controllertest.Stored(t, e.store) }

const (
	timeout = 5 * time.Second
	tick    = 5 * time.Millisecond
)

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, timeout, tick, msg)
}

// waitLeader waits until the manager has taken in a leadership change
// (the Watch callback is asynchronous).
func (e *env) waitLeader(t *testing.T, want bool) {
	t.Helper()
	eventually(t, func() bool { return (e.m.Role() == lease.RoleLeader) == want }, "leadership taken in")
}

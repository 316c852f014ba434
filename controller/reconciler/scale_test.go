package reconciler

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/controllertest"
	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// listing is a downstream that runs a fixed set of groups: InspectGroups
// answers them, the other calls answer "not being watched". It isolates the
// reconciler from any plugin's own cost.
type listing struct{ specs []plugin.Spec }

var _ plugin.Group = (*listing)(nil)

func (l *listing) CommitGroup(context.Context, plugin.Spec, bool) (string, error) { return "ok", nil }
func (l *listing) FreeGroup(_ context.Context, id plugin.ID) error                { return notWatchedErr(id) }
func (l *listing) DestroyGroup(_ context.Context, id plugin.ID) error             { return notWatchedErr(id) }
func (l *listing) DescribeGroup(_ context.Context, id plugin.ID) (plugin.Description, error) {
	return plugin.Description{}, notWatchedErr(id)
}
func (l *listing) InspectGroups(context.Context) ([]plugin.Spec, error) { return l.specs, nil }

func notWatchedErr(id plugin.ID) error {
	return &plugin.RPCError{Message: fmt.Sprintf("Group '%s' is not being watched", id)}
}

// inSyncReconciler returns a leading reconciler (not started: no worker,
// sync loop or lease loop runs) with n groups stored and running as stored,
// after one sync.
func inSyncReconciler(t testing.TB, n int) *Reconciler {
	t.Helper()
	tt, ok := t.(*testing.T)
	if !ok {
		tt = &testing.T{} // a benchmark: newEnv's cleanups are not needed
	}
	e := newEnv(tt, true, func(o *Options) { o.Log, o.StoreTimeout = logr.Discard(), 5*time.Minute })
	cfg := sources.Config{Groups: make(map[plugin.ID]sources.Entry, n)}
	down := &listing{specs: make([]plugin.Spec, 0, n)}
	props := spec("g", 1).Properties
	for i := range n {
		s := plugin.Spec{ID: plugin.ID(fmt.Sprintf("g%06d", i)), Properties: props}
		entry, err := front.EntryFor(s, "group-stateless")
		require.NoError(t, err)
		cfg.Groups[s.ID] = entry
		down.specs = append(down.specs, s)
	}
	_, err := e.store.Save(context.Background(), cfg, "")
	require.NoError(t, err)
	e.down.Swap(down)
	r := e.m.r
	require.NoError(t, r.lease.CheckNow(context.Background()))
	require.Equal(t, lease.RoleLeader, r.lease.View().Role)
	require.NoError(t, r.sync(context.Background()))
	t.Cleanup(r.queue.ShutDown)
	return r
}

// TestReconcileAllocsFlat: reconciling one in-sync group allocates the
// same at 1,000 and at 100,000 stored groups: no per-group step copies or
// scans the whole config, ledger or observed set. Counted, not timed.
func TestReconcileAllocsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 groups")
	}
	per, bytes := map[int]float64{}, map[int]uint64{}
	for _, n := range []int{1000, 100000} {
		r := inSyncReconciler(t, n)
		ctx := context.Background()
		id := plugin.ID(fmt.Sprintf("g%06d", n/2))
		for _, s := range r.down.(*controllertest.Recorder).Target().(*listing).specs {
			r.ledger.Record(s.ID, string(ActionNoop), nil, reasonAsStored) // the ledger holds every group
		}
		p, out := r.reconcile(ctx, id)
		require.NoError(t, out.err)
		require.Equal(t, ActionNoop, p.Action, p.Reason)
		// The least of 3 measurements: another goroutine of the test binary
		// can only add allocations to one.
		per[n], bytes[n] = math.Inf(1), math.MaxUint64
		for range 3 {
			per[n] = min(per[n], testing.AllocsPerRun(200, func() { r.processOne(ctx, id) }))
			bytes[n] = min(bytes[n], bytesPerRun(200, func() { r.processOne(ctx, id) }))
		}
		t.Logf("scale: per in-sync reconcile at %d groups: %.0f allocations, %d bytes", n, per[n], bytes[n])
	}
	require.Equal(t, per[1000], per[100000], "allocations per reconcile grow with the number of groups")
	require.Equal(t, bytes[1000], bytes[100000], "bytes allocated per reconcile grow with the number of groups")
}

// bytesPerRun is testing.AllocsPerRun for bytes: the heap bytes f
// allocates per call, averaged over runs (after one warm-up call).
func bytesPerRun(runs int, f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

func BenchmarkReconcileInSync(b *testing.B) {
	r := inSyncReconciler(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.processOne(ctx, "g000500")
	}
}

// TestUnknownFreesKeepNothing: frees and destroys of groups that are
// neither stored nor running write nothing to the store and leave no
// record behind (ledger, observed, last-applied, intents, queue).
func TestUnknownFreesKeepNothing(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	e.waitLeader(t, true)
	ctx := t.Context()
	_, err := e.m.Group().CommitGroup(ctx, spec("web", 1), false)
	require.NoError(t, err)
	saves := e.store.Saves()
	for i := range 500 {
		id := plugin.ID(fmt.Sprintf("ghost%03d", i))
		remove := e.m.Group().FreeGroup
		if i%2 == 1 {
			remove = e.m.Group().DestroyGroup
		}
		err := remove(ctx, id)
		require.Error(t, err)
		require.True(t, submit.NotWatched(err), "the plugin's own answer: %v", err)
	}
	require.Equal(t, saves, e.store.Saves(), "an unknown-ID free or destroy writes nothing")
	r := e.m.r
	eventually(t, func() bool { return r.queue.Len() == 0 }, "queue drained")
	require.Equal(t, 1, r.ledger.Len(), "only the stored group is in the ledger")
	r.obs.mu.Lock()
	obsN, appliedN := len(r.obs.m), len(r.obs.applied)
	r.obs.mu.Unlock()
	require.LessOrEqual(t, obsN, 1, "observed holds the running group at most")
	require.LessOrEqual(t, appliedN, 1)
	require.Empty(t, r.intents.keys())
}

// TestLedgerForgetsGroupsNamedByNobody: a group the downstream stops
// listing and the store never held leaves the ledger at the next sync,
// even when its last free failed.
func TestLedgerForgetsGroupsNamedByNobody(t *testing.T) {
	r := inSyncReconciler(t, 3)
	ctx := context.Background()
	r.ledger.Record("phantom", string(ActionFree), notWatchedErr("x"), "running downstream, not stored")
	r.ledger.Record("g000001", string(ActionNoop), nil, reasonAsStored)
	require.NoError(t, r.sync(ctx))
	r.forgetUnnamed()
	_, ok := r.ledger.Get("phantom")
	require.False(t, ok)
	_, ok = r.ledger.Get("g000001")
	require.True(t, ok)
}

// TestPhantomsQueueBehindStored: the groups only the downstream lists go
// behind the stored ones, so a flood of them never delays a stored group.
func TestPhantomsQueueBehindStored(t *testing.T) {
	r := inSyncReconciler(t, 0)
	ctx := context.Background()
	down := r.down.(*controllertest.Recorder).Target().(*listing)
	for i := range 1000 {
		down.specs = append(down.specs, spec(fmt.Sprintf("p%04d", i), 1))
	}
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for _, id := range []string{"s1", "s2"} {
		entry, err := front.EntryFor(spec(id, 1), "group-stateless")
		require.NoError(t, err)
		cfg.Groups[plugin.ID(id)] = entry
	}
	_, v, err := r.store.Load(ctx)
	require.NoError(t, err)
	_, err = r.store.Save(ctx, cfg, v)
	require.NoError(t, err)
	require.NoError(t, r.sync(ctx))
	require.Equal(t, 1002, r.enqueueAll())
	var first []plugin.ID
	for range 2 {
		id, _ := r.queue.Get()
		first = append(first, id)
		r.queue.Done(id)
	}
	require.ElementsMatch(t, []plugin.ID{"s1", "s2"}, first)
	require.Equal(t, 1000, r.queue.Len())
}

// BenchmarkResyncInSync10k is one resync of 10,000 groups in sync, in
// process (the downstream answers from memory, no socket): the sync (store
// version check, InspectGroups installed) and every group reconciled by the
// default 8 workers.
func BenchmarkResyncInSync10k(b *testing.B) {
	r := inSyncReconciler(b, 10000)
	ctx := context.Background()
	for range r.workers {
		go r.runWorker(ctx)
	}
	resync := func() {
		require.NoError(b, r.sync(ctx))
		r.enqueueAll()
		for r.queue.Len() > 0 {
			runtime.Gosched()
		}
	}
	resync() // the first compares every group once
	b.ReportAllocs()
	for b.Loop() {
		resync()
	}
}

package controller

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// listing is a downstream that runs a fixed set of groups: InspectGroups
// answers them, the other calls answer "not being watched". It isolates the
// reconciler from any plugin's own cost.
type listing struct{ specs []plugin.Spec }

var _ plugin.Group = (*listing)(nil)

func (l *listing) CommitGroup(context.Context, plugin.Spec, bool) (string, error) { return "ok", nil }
func (l *listing) FreeGroup(_ context.Context, id plugin.ID) error             { return notWatchedErr(id) }
func (l *listing) DestroyGroup(_ context.Context, id plugin.ID) error          { return notWatchedErr(id) }
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
func inSyncReconciler(t testing.TB, n int) *reconciler {
	t.Helper()
	e := newEnv(&testing.T{}, true, func(o *Options) { o.Log = logr.Discard() })
	cfg := sources.Config{Groups: make(map[plugin.ID]sources.Entry, n)}
	down := &listing{specs: make([]plugin.Spec, 0, n)}
	for i := range n {
		s := spec(fmt.Sprintf("g%06d", i), 1)
		entry, err := entryFor(s, "group-stateless")
		require.NoError(t, err)
		cfg.Groups[s.ID] = entry
		down.specs = append(down.specs, s)
	}
	_, err := e.store.Save(context.Background(), cfg, "")
	require.NoError(t, err)
	e.down.swap(down)
	r := e.m.r
	c := r.lease.start()
	require.NotNil(t, c)
	<-c.done
	require.Equal(t, RoleLeader, r.lease.view().Role)
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
		for _, s := range r.down.(*recorder).target().(*listing).specs {
			r.processOne(ctx, s.ID) // every group once: the ledger holds them all
		}
		got, ok := r.ledger.Get(id)
		require.True(t, ok)
		require.Equal(t, string(ActionNoop), got.LastAction)
		per[n] = testing.AllocsPerRun(200, func() { r.processOne(ctx, id) })
		bytes[n] = bytesPerRun(200, func() { r.processOne(ctx, id) })
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

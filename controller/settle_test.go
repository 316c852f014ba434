package controller

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// TestSettleInSyncAllocatesNothing: a resync settles an in-sync group (its
// plan, its record) without allocating, at 1,000 as at 100,000 groups, and
// queues nothing. Counted, not timed.
func TestSettleInSyncAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 groups")
	}
	for _, n := range []int{1000, 100000} {
		r := inSyncReconciler(t, n)
		id := plugin.ID(fmt.Sprintf("g%06d", n/2))
		require.True(t, r.settle(id, false), "an in-sync group is settled")
		allocs := math.Inf(1)
		for range 3 { // the least of 3: another goroutine can only add
			allocs = min(allocs, testing.AllocsPerRun(200, func() { r.settle(id, false) }))
		}
		t.Logf("scale: per settled in-sync group at %d groups: %.0f allocations", n, allocs)
		require.Zero(t, allocs)
		require.Equal(t, n, r.enqueueAll())
		require.Zero(t, r.queue.Len(), "in-sync groups are not queued")
	}
}

// TestSettleLeavesWorkToWorkers: only a converged group without an intent
// is settled in the sync loop; a group to commit, one with a user's
// intent, one to free and one while the role is unknown are queued.
func TestSettleLeavesWorkToWorkers(t *testing.T) {
	r := inSyncReconciler(t, 3)
	ctx := context.Background()
	down := r.down.(*recorder).target().(*listing)
	down.specs = append(down.specs[1:], spec("phantom", 1)) // g000000 stopped; a group nobody stores runs
	require.NoError(t, r.sync(ctx))
	r.intents.record("g000002", opCommit, true, r.obs.mark())
	require.Equal(t, 5, r.enqueueAll()) // 1 intent, 3 stored, 1 phantom
	var queued []plugin.ID
	for r.queue.Len() > 0 {
		id, _ := r.queue.Get()
		queued = append(queued, id)
		r.queue.Done(id)
	}
	require.ElementsMatch(t, []plugin.ID{"g000002", "g000000", "phantom"}, queued, "g000001 alone is settled")
	require.False(t, r.settle("g000000", false), "not running: a commit, for a worker")
	require.False(t, r.settle("g000002", false), "an intent is answered by a worker")
}

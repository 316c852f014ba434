package workqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

// As client-go's queue: after ShutDown, Get hands out what was pending,
// then says shutdown; delayed keys and later adds are dropped.
func TestShutDown_GetDrainsPendingThenIgnoresAdds(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.Add("pending")
	q.Add("second")
	q.AddAfter("delayed", time.Millisecond)
	require.False(t, q.ShuttingDown())

	q.ShutDown()
	require.True(t, q.ShuttingDown())
	require.Equal(t, 2, q.Len(), "pending keys stay for the workers")

	q.Add("a")
	q.AddAfter("b", 0)
	q.AddAfter("c", time.Millisecond)
	q.AddRateLimited("d")
	clk.Step(time.Hour)
	require.Equal(t, 2, q.Len(), "adds after shutdown are ignored, delayed keys dropped")
	require.False(t, clk.HasWaiters(), "no timer may stay armed after shutdown")

	for _, want := range []string{"pending", "second"} {
		k, shutdown := q.Get()
		require.False(t, shutdown)
		require.Equal(t, want, k)
		q.Done(k)
	}
	k, shutdown := q.Get()
	require.True(t, shutdown)
	require.Zero(t, k)
}

func TestShutDown_IsIdempotent(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.ShutDown()
	q.ShutDown()
	q.ShutDownWithDrain()
	require.True(t, q.ShuttingDown())
}

// A key added while it was processing, before ShutDown, is pending again
// after its Done, as in client-go: the add was accepted.
func TestShutDown_ProcessingKeyMayStillBeDone(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("a")
	requireNext(t, q, "a")
	q.Add("a") // accepted: runs again after Done
	q.ShutDown()
	q.Done("a")
	require.Equal(t, 1, q.Len())
	requireNext(t, q, "a")
	q.Done("a")
	_, shutdown := q.Get()
	require.True(t, shutdown)
}

func TestShutDownWithDrain_WaitsForInFlightItems(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("held")
	requireNext(t, q, "held") // a worker holds "held"

	blockedGet := getAsync(q) // nothing pending: blocks until shutdown
	drained := make(chan struct{})
	go func() {
		q.ShutDownWithDrain()
		close(drained)
	}()

	require.Eventually(t, q.ShuttingDown, waitFor, tick)
	r := receive(t, blockedGet)
	require.True(t, r.shutdown, "getters are released while draining")
	select {
	case <-drained:
		require.FailNow(t, "ShutDownWithDrain returned while an item was in flight")
	default:
	}

	q.Add("late")
	require.Equal(t, 0, q.Len(), "adds are ignored while draining")

	q.Done("held")
	select {
	case <-drained:
	case <-time.After(waitFor):
		require.FailNow(t, "ShutDownWithDrain did not return after Done")
	}
}

func TestShutDownWithDrain_ReturnsAtOnceWhenIdle(t *testing.T) {
	q, clk := fakeQueue[int](t)
	q.AddAfter(1, time.Hour)
	q.ShutDownWithDrain()
	require.True(t, q.ShuttingDown())
	require.False(t, clk.HasWaiters())
}

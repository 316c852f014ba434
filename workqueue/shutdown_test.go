package workqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

func TestShutDown_DropsPendingAndIgnoresAdds(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.Add("pending")
	q.AddAfter("delayed", time.Millisecond)
	require.False(t, q.ShuttingDown())

	q.ShutDown()
	require.True(t, q.ShuttingDown())
	require.Equal(t, 0, q.Len(), "pending keys are dropped")

	q.Add("a")
	q.AddAfter("b", 0)
	q.AddAfter("c", time.Millisecond)
	q.AddRateLimited("d")
	clk.Step(time.Hour)
	require.Equal(t, 0, q.Len())
	require.False(t, clk.HasWaiters(), "no timer may stay armed after shutdown")

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

func TestShutDown_ProcessingKeyMayStillBeDone(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("a")
	requireNext(t, q, "a")
	q.Add("a") // would run again after Done, but the queue stops first
	q.ShutDown()
	q.Done("a")
	require.Equal(t, 0, q.Len())
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

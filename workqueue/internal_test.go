package workqueue

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{5 * ms, 30 * time.Second, 0, 5 * ms},
		{5 * ms, 30 * time.Second, 1, 10 * ms},
		{5 * ms, 30 * time.Second, 2, 20 * ms},
		{5 * ms, 30 * time.Second, 12, 20480 * ms},
		{5 * ms, 30 * time.Second, 13, 30 * time.Second},
		{5 * ms, 30 * time.Second, math.MaxInt, 30 * time.Second},
		{time.Duration(math.MaxInt64 / 2), time.Duration(math.MaxInt64), 5, time.Duration(math.MaxInt64)},
		{7, 7, 3, 7},
	}
	for _, c := range cases {
		require.Equal(t, c.want, backoff(c.base, c.limit, c.n), "base=%s limit=%s n=%d", c.base, c.limit, c.n)
	}
}

// TestShutDown_ReleasesEveryBlockedGetter waits until the getters are really
// blocked inside Get before shutting down.
func TestShutDown_ReleasesEveryBlockedGetter(t *testing.T) {
	q, err := New[string](DefaultOptions())
	require.NoError(t, err)
	const getters = 5
	results := make(chan bool, getters)
	for range getters {
		go func() {
			_, shutdown := q.Get()
			results <- shutdown
		}()
	}
	require.Eventually(t, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.getWaiters == getters
	}, 5*time.Second, time.Millisecond)

	q.ShutDown()
	for range getters {
		select {
		case shutdown := <-results:
			require.True(t, shutdown)
		case <-time.After(5 * time.Second):
			require.FailNow(t, "a blocked Get was not released")
		}
	}
}

// TestShutDown_StopsEveryTimer: the delayed keys' timers are stopped, so a
// queue shut down leaves nothing armed on its clock.
func TestShutDown_StopsEveryTimer(t *testing.T) {
	for _, delayed := range []int{0, 1, 100} {
		clk := clocktesting.NewFakeClock(time.Unix(0, 0))
		opts := DefaultOptions()
		opts.Clock = clk
		q, err := New[int](opts)
		require.NoError(t, err)
		for i := range delayed {
			q.AddAfter(i, time.Duration(i+1)*time.Minute)
		}
		require.Equal(t, delayed > 0, clk.HasWaiters(), "AddAfter arms its timer before it returns")
		q.ShutDown()
		require.False(t, clk.HasWaiters(), "timer left armed, delayed=%d", delayed)
		require.Empty(t, q.waiting)
		require.Empty(t, q.waitIdx)
	}
}

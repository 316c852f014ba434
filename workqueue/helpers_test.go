package workqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/workqueue"
)

const (
	waitFor = 5 * time.Second
	tick    = time.Millisecond
)

// newFakeClock returns a FakeClock at a fixed instant.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

// newQueue returns a queue built from opts that is shut down when
// the test ends.
func newQueue[K comparable](t *testing.T, opts workqueue.Options) *workqueue.Queue[K] {
	t.Helper()
	q, err := workqueue.New[K](opts)
	require.NoError(t, err)
	t.Cleanup(q.ShutDown)
	return q
}

// fakeQueue returns a queue driven by a new FakeClock.
func fakeQueue[K comparable](t *testing.T) (*workqueue.Queue[K], *clocktesting.FakeClock) {
	t.Helper()
	clk := newFakeClock()
	opts := workqueue.DefaultOptions()
	opts.Clock = clk
	return newQueue[K](t, opts), clk
}

// requireNext waits until a key is pending, takes it with Get (which then
// cannot block) and requires it to be want. The caller must call Done.
func requireNext[K comparable](t *testing.T, q *workqueue.Queue[K], want K) {
	t.Helper()
	require.Eventually(t, func() bool { return q.Len() > 0 }, waitFor, tick, "no key became pending; want %v", want)
	got, shutdown := q.Get()
	require.False(t, shutdown)
	require.Equal(t, want, got)
}

// getAsync runs Get in a goroutine and delivers its result on the channel.
func getAsync[K comparable](q *workqueue.Queue[K]) <-chan getResult[K] {
	ch := make(chan getResult[K], 1)
	go func() {
		k, shutdown := q.Get()
		ch <- getResult[K]{key: k, shutdown: shutdown}
	}()
	return ch
}

type getResult[K comparable] struct {
	key      K
	shutdown bool
}

// receive waits (bounded) for a Get result.
func receive[K comparable](t *testing.T, ch <-chan getResult[K]) getResult[K] {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitFor):
		require.FailNow(t, "Get did not return")
		return getResult[K]{}
	}
}

package workqueue_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

func TestAddAfter_NonPositiveDelayAddsNow(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			q, _ := fakeQueue[string](t)
			q.AddAfter("a", d)
			require.Equal(t, 1, q.Len(), "no clock step needed")
		})
	}
}

func TestAddAfter_DeliversPerInjectedClock(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.AddAfter("late", 10*time.Millisecond)
	q.AddAfter("marker", 9*time.Millisecond)
	require.Equal(t, 0, q.Len())

	clk.Step(9 * time.Millisecond)
	requireNext(t, q, "marker")
	q.Done("marker")
	// The loop released everything ready at 9ms together with marker.
	require.Equal(t, 0, q.Len(), "late must wait for 10ms")

	clk.Step(time.Millisecond)
	requireNext(t, q, "late")
	q.Done("late")
}

func TestAddAfter_ManySmallStepsAddUp(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.AddAfter("a", 10*time.Millisecond)
	for range 10 {
		clk.Step(time.Millisecond)
	}
	requireNext(t, q, "a")
	q.Done("a")
}

func TestAddAfter_ReadyKeysComeOutInReadyOrder(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.AddAfter("c", 30*time.Millisecond)
	q.AddAfter("a", 10*time.Millisecond)
	q.AddAfter("b", 20*time.Millisecond)
	q.AddAfter("b2", 20*time.Millisecond) // same ready time: insertion order
	clk.Step(time.Second)
	for _, want := range []string{"a", "b", "b2", "c"} {
		requireNext(t, q, want)
		q.Done(want)
	}
}

func TestAddAfter_KeepsEarlierReadyTime(t *testing.T) {
	cases := []struct {
		name   string
		delays []time.Duration // successive AddAfter("a", d)
	}{
		{name: "later add does not postpone", delays: []time.Duration{10 * time.Millisecond, 50 * time.Millisecond}},
		{name: "earlier add brings forward", delays: []time.Duration{50 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, clk := fakeQueue[string](t)
			for _, d := range c.delays {
				q.AddAfter("a", d)
			}
			q.AddAfter("marker9", 9*time.Millisecond)
			q.AddAfter("marker100", 100*time.Millisecond)

			clk.Step(9 * time.Millisecond)
			requireNext(t, q, "marker9")
			q.Done("marker9")
			require.Equal(t, 0, q.Len())

			clk.Step(time.Millisecond)
			requireNext(t, q, "a")
			q.Done("a")

			clk.Step(90 * time.Millisecond)
			requireNext(t, q, "marker100")
			q.Done("marker100")
			require.Equal(t, 0, q.Len(), "a must be delivered once, at the earliest time")
		})
	}
}

func TestAddAfter_PendingKeyIsNotDuplicated(t *testing.T) {
	q, clk := fakeQueue[string](t)
	q.Add("a")
	q.AddAfter("a", time.Millisecond)
	q.AddAfter("marker", 2*time.Millisecond)
	clk.Step(2 * time.Millisecond)
	// marker is released after (or with) the delayed a, which finds a pending.
	require.Eventually(t, func() bool { return q.Len() >= 2 }, waitFor, tick)
	requireNext(t, q, "a")
	q.Done("a")
	requireNext(t, q, "marker")
	q.Done("marker")
	require.Equal(t, 0, q.Len())
}

func TestAddRateLimited_ExponentialBackoffCappedAndForget(t *testing.T) {
	clk := newFakeClock()
	opts := workqueue.DefaultOptions()
	opts.Clock = clk
	opts.MaxDelay = 100 * time.Millisecond
	q := newQueue[string](t, opts)

	ms := time.Millisecond
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms}
	for i, d := range want {
		require.Equal(t, i, q.NumRequeues("a"))
		q.AddRateLimited("a")
		require.Equal(t, i+1, q.NumRequeues("a"))
		requireDelay(t, q, clk.Step, "a", d, fmt.Sprintf("marker%d", i))
	}

	q.Forget("a")
	require.Equal(t, 0, q.NumRequeues("a"))
	q.AddRateLimited("a")
	requireDelay(t, q, clk.Step, "a", 5*ms, "after-forget")
	require.Equal(t, 0, q.NumRequeues("b"), "counts are per key")
}

// requireDelay checks that k, already delayed, becomes pending d after now:
// not at d-1ms (shown by a marker released at that instant), but at d.
func requireDelay(t *testing.T, q *workqueue.Queue[string], step func(time.Duration), k string, d time.Duration, marker string) {
	t.Helper()
	q.AddAfter(marker, d-time.Millisecond)
	step(d - time.Millisecond)
	requireNext(t, q, marker)
	q.Done(marker)
	require.Equal(t, 0, q.Len(), "%s released before %s", k, d)
	step(time.Millisecond)
	requireNext(t, q, k)
	q.Done(k)
}

func TestAddRateLimited_HugeRequeueCountStaysAtMax(t *testing.T) {
	q, clk := fakeQueue[string](t)
	for range 200 { // 5ms * 2^200 must not overflow into a tiny or negative delay
		q.AddRateLimited("a")
	}
	require.Equal(t, 200, q.NumRequeues("a"))
	// The first call set the ready time to 5ms; later ones keep the earlier time.
	requireDelay(t, q, clk.Step, "a", 5*time.Millisecond, "m1")
	q.AddRateLimited("a")
	requireDelay(t, q, clk.Step, "a", workqueue.DefaultMaxDelay, "m2")
}

// A delay is measured from the AddAfter call: its timer is armed before
// AddAfter returns, so a test stepping the clock right after cannot race it.
func TestAddAfter_ArmsBeforeReturning(t *testing.T) {
	q, clk := fakeQueue[string](t)
	require.False(t, clk.HasWaiters())
	q.AddAfter("a", 10*time.Millisecond)
	require.True(t, clk.HasWaiters(), "no timer armed when AddAfter returned")
	clk.Step(10 * time.Millisecond)
	requireNext(t, q, "a")
	q.Done("a")
	require.False(t, clk.HasWaiters(), "the released key's timer is gone")
}

package workqueue_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

func TestQueue_AddWhilePendingIsQueuedOnce(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("a")
	q.Add("b")
	q.Add("a")
	q.Add("a")
	require.Equal(t, 2, q.Len())

	requireNext(t, q, "a")
	q.Done("a")
	requireNext(t, q, "b")
	q.Done("b")
	require.Equal(t, 0, q.Len(), "a must not come out twice")
}

func TestQueue_FIFOAmongDistinctKeys(t *testing.T) {
	q := newQueue[int](t, workqueue.DefaultOptions())
	want := []int{7, 3, 9, 1, 5, 2, 8}
	for _, k := range want {
		q.Add(k)
	}
	q.Add(3) // a duplicate keeps its original place
	got := make([]int, 0, len(want))
	for q.Len() > 0 {
		k, shutdown := q.Get()
		require.False(t, shutdown)
		got = append(got, k)
		q.Done(k)
	}
	require.Equal(t, want, got)
}

func TestQueue_KeyReAddedWhileProcessingWaitsForDone(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("a")
	requireNext(t, q, "a") // worker 1 holds a

	q.Add("a")
	q.Add("a")
	require.Equal(t, 0, q.Len(), "a is processing: it must not be pending for another worker")

	q.Add("b")
	requireNext(t, q, "b") // another key still flows past the held one
	q.Done("b")

	second := getAsync(q) // worker 2 waits; nothing it may take is pending
	select {
	case r := <-second:
		require.FailNow(t, "Get returned while a was processing", "got %v", r)
	default:
	}

	q.Done("a") // now a is queued again, once
	r := receive(t, second)
	require.False(t, r.shutdown)
	require.Equal(t, "a", r.key)
	require.Equal(t, 0, q.Len(), "the re-adds must collapse into one run")
	q.Done("a")
	require.Equal(t, 0, q.Len(), "a ran exactly once more")
}

func TestQueue_ReAddWhileProcessingKeepsFIFOPlaceAfterDone(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("a")
	requireNext(t, q, "a")
	q.Add("a") // queued only at Done
	q.Add("b")
	q.Done("a")
	requireNext(t, q, "b")
	q.Done("b")
	requireNext(t, q, "a")
	q.Done("a")
}

func TestQueue_DoneOfUnknownKeyIsIgnored(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Done("never-added")
	q.Add("a")
	q.Done("a") // pending, not processing: nothing changes
	require.Equal(t, 1, q.Len())
	requireNext(t, q, "a")
	q.Done("a")
	q.Done("a") // twice
	require.Equal(t, 0, q.Len())
}

func TestQueue_StructKeys(t *testing.T) {
	type key struct{ ns, name string }
	q := newQueue[key](t, workqueue.DefaultOptions())
	q.Add(key{"x", "1"})
	q.Add(key{"x", "1"})
	q.Add(key{"x", "2"})
	require.Equal(t, 2, q.Len())
}

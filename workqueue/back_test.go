package workqueue_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

// drain takes every pending key in order, marking each done.
func drain[K comparable](t *testing.T, q *workqueue.Queue[K]) []K {
	t.Helper()
	var got []K
	for q.Len() > 0 {
		k, shutdown := q.Get()
		require.False(t, shutdown)
		got = append(got, k)
		q.Done(k)
	}
	return got
}

func TestQueue_AddBack(t *testing.T) {
	tests := []struct {
		name string
		ops  func(q *workqueue.Queue[string])
		want []string
	}{
		{"front keys pass back keys added before them", func(q *workqueue.Queue[string]) {
			q.AddBack("p1")
			q.AddBack("p2")
			q.Add("s1")
			q.Add("s2")
		}, []string{"s1", "s2", "p1", "p2"}},
		{"a front add moves a back key to the front once", func(q *workqueue.Queue[string]) {
			q.AddBack("p1")
			q.AddBack("x")
			q.Add("s1")
			q.Add("x")
			q.AddBack("x") // already pending: keeps its place
		}, []string{"s1", "x", "p1"}},
		{"a back add of a front key keeps its place", func(q *workqueue.Queue[string]) {
			q.Add("s1")
			q.AddBack("p1")
			q.AddBack("s1")
		}, []string{"s1", "p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue[string](t, workqueue.DefaultOptions())
			tt.ops(q)
			require.Equal(t, len(tt.want), q.Len())
			require.Equal(t, tt.want, drain(t, q))
			require.Equal(t, 0, q.Len())
		})
	}
}

func TestQueue_AddBackWhileProcessing(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.AddBack("x")
	q.Add("x") // promoted: a stale entry stays in the back lane
	requireNext(t, q, "x")
	q.AddBack("x") // while processing: queued at the back on Done
	q.Add("s1")
	require.Equal(t, 1, q.Len())
	q.Done("x")
	require.Equal(t, 2, q.Len())
	require.Equal(t, []string{"s1", "x"}, drain(t, q))

	second := getAsync(q)
	q.AddBack("y")
	require.Equal(t, "y", receive(t, second).key)
	q.Done("y")
	require.Equal(t, 0, q.Len())
}

func TestQueue_AddFirst(t *testing.T) {
	tests := []struct {
		name string
		ops  func(q *workqueue.Queue[string])
		want []string
	}{
		{"first keys pass pending normal and back keys", func(q *workqueue.Queue[string]) {
			q.AddBack("p1")
			q.Add("s1")
			q.Add("s2")
			q.AddFirst("u1")
			q.AddFirst("u2")
		}, []string{"u1", "u2", "s1", "s2", "p1"}},
		{"a pending normal key moves to the front once", func(q *workqueue.Queue[string]) {
			q.Add("s1")
			q.Add("s2")
			q.Add("s3")
			q.AddFirst("s3")
			q.Add("s3")     // already first: keeps its place
			q.AddBack("s3") // likewise
		}, []string{"s3", "s1", "s2"}},
		{"a pending back key moves to the front", func(q *workqueue.Queue[string]) {
			q.AddBack("p1")
			q.AddBack("p2")
			q.Add("s1")
			q.AddFirst("p2")
		}, []string{"p2", "s1", "p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue[string](t, workqueue.DefaultOptions())
			tt.ops(q)
			require.Equal(t, len(tt.want), q.Len())
			require.Equal(t, tt.want, drain(t, q))
			require.Equal(t, 0, q.Len())
		})
	}
}

func TestQueue_AddFirstWhileProcessing(t *testing.T) {
	q := newQueue[string](t, workqueue.DefaultOptions())
	q.Add("x")
	q.AddFirst("x") // moved: a stale entry stays in the normal lane
	requireNext(t, q, "x")
	q.Add("s1")
	q.AddFirst("x") // while processing: queued first on Done
	require.Equal(t, 1, q.Len())
	q.Done("x")
	require.Equal(t, 2, q.Len())
	require.Equal(t, []string{"x", "s1"}, drain(t, q))
	require.Equal(t, 0, q.Len())
}

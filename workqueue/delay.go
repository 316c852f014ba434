package workqueue

import (
	"container/heap"
	"time"

	"k8s.io/utils/clock"
)

// AddAfter adds k once d has passed on the queue's clock. d <= 0 adds now.
// If k is already waiting, the earlier of the two ready times is kept. A
// delayed key does not count in Len until it is ready. Ignored after
// shutdown.
func (q *Queue[K]) AddAfter(k K, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addAfterLocked(k, d)
}

func (q *Queue[K]) addAfterLocked(k K, d time.Duration) {
	if q.shuttingDown {
		return
	}
	if d <= 0 {
		q.addLocked(k)
		return
	}
	readyAt := q.clock.Now().Add(d)
	e, ok := q.waitIdx[k]
	switch {
	case !ok:
		q.waitSeq++
		e = &waitEntry[K]{key: k, readyAt: readyAt, seq: q.waitSeq}
		heap.Push(&q.waiting, e)
		q.waitIdx[k] = e
	case readyAt.Before(e.readyAt):
		e.readyAt = readyAt
		heap.Fix(&q.waiting, e.index)
		e.timer.Stop()
	default:
		return // already waiting for an earlier (or the same) time
	}
	// The timer is armed here, in the caller, for the d it asked: the delay
	// is measured from this call on the queue's clock. Its function starts
	// the release in a goroutine of its own: a clock may call it holding
	// its own lock (k8s.io/utils' FakeClock does), and the release reads it.
	e.timer = q.clock.AfterFunc(d, func() { go q.releaseReady() })
}

// AddRateLimited adds k after its backoff delay, BaseDelay * 2^NumRequeues(k)
// capped at MaxDelay, and counts one more requeue of k. Ignored after
// shutdown.
func (q *Queue[K]) AddRateLimited(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	n := q.failures[k]
	q.failures[k] = n + 1
	q.metrics.retries.Inc()
	q.addAfterLocked(k, backoff(q.baseDelay, q.maxDelay, n))
}

// Forget resets k's backoff: the next AddRateLimited waits BaseDelay. It
// does not remove k from the queue or the delay heap.
func (q *Queue[K]) Forget(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, k)
}

// NumRequeues returns how many times AddRateLimited was called for k since
// the last Forget.
func (q *Queue[K]) NumRequeues(k K) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[k]
}

// backoff returns base * 2^n, capped at limit, without overflowing.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for range n {
		if d > limit-d {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// releaseReady queues every delayed key whose time has come, earliest ready
// time first, and stops their timers. Each delayed key's timer calls it, so
// keys that become ready together come out in ready order whichever timer
// fires first; a timer whose key was released already finds nothing to do.
func (q *Queue[K]) releaseReady() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	now := q.clock.Now()
	for len(q.waiting) > 0 {
		e := q.waiting[0]
		if e.readyAt.After(now) {
			return
		}
		heap.Pop(&q.waiting)
		delete(q.waitIdx, e.key)
		e.timer.Stop()
		q.addLocked(e.key)
	}
}

// stopWaitingLocked drops every delayed key and stops its timer.
func (q *Queue[K]) stopWaitingLocked() {
	for _, e := range q.waiting {
		e.timer.Stop()
	}
	q.waiting = nil
	clear(q.waitIdx)
}

// waitEntry is one delayed key in the heap.
type waitEntry[K comparable] struct {
	key     K
	readyAt time.Time
	seq     uint64 // breaks ties between equal ready times: first added first
	index   int    // position in the heap, maintained by Swap/Push/Pop
	timer   clock.Timer
}

// waitHeap is a min-heap of delayed keys by ready time (container/heap).
type waitHeap[K comparable] []*waitEntry[K]

var _ heap.Interface = (*waitHeap[int])(nil)

func (h waitHeap[K]) Len() int { return len(h) }

func (h waitHeap[K]) Less(i, j int) bool {
	if h[i].readyAt.Equal(h[j].readyAt) {
		return h[i].seq < h[j].seq
	}
	return h[i].readyAt.Before(h[j].readyAt)
}

func (h waitHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *waitHeap[K]) Push(x any) {
	e := x.(*waitEntry[K])
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *waitHeap[K]) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	e.index = -1
	return e
}

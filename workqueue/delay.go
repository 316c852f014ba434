package workqueue

import (
	"container/heap"
	"time"

	"k8s.io/utils/clock"
)

// armSlack is how far the clock may move while the delay loop arms its
// timer before the timer is re-armed. A timer is armed for "ready time minus
// now"; if the clock advances between reading now and creating the timer
// (a FakeClock stepped by a test, or a preempted goroutine), the timer
// would fire late by that much. Real clocks always move a little, so small
// movements are accepted; maxArmAttempts bounds the retries under load.
const (
	armSlack       = 100 * time.Microsecond
	maxArmAttempts = 8
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
		q.addLocked(k, laneNormal)
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
	default:
		return // already waiting for an earlier (or the same) time
	}
	if e.index == 0 {
		select { // the earliest ready time changed: re-arm the loop's timer
		case q.wake <- struct{}{}:
		default:
		}
	}
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

// delayLoop moves delayed keys into the queue when they become ready. It is
// the queue's only background goroutine and returns on shutdown.
func (q *Queue[K]) delayLoop() {
	defer close(q.loopDone)
	for {
		next, ok := q.releaseReady()
		var fired <-chan time.Time
		var t clock.Timer
		if ok {
			if t = q.armTimer(next); t == nil {
				continue // became ready while arming
			}
			fired = t.C()
		}
		select {
		case <-q.stop:
		case <-q.wake:
		case <-fired: // nil when nothing waits: blocks forever
		}
		if t != nil {
			t.Stop()
		}
		select {
		case <-q.stop:
			return
		default:
		}
	}
}

// releaseReady queues every delayed key whose time has come and returns the
// ready time of the earliest one still waiting (ok=false if none).
func (q *Queue[K]) releaseReady() (next time.Time, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return next, false
	}
	now := q.clock.Now()
	for len(q.waiting) > 0 {
		e := q.waiting[0]
		if e.readyAt.After(now) {
			return e.readyAt, true
		}
		heap.Pop(&q.waiting)
		delete(q.waitIdx, e.key)
		q.addLocked(e.key, laneNormal)
	}
	return next, false
}

// armTimer returns a timer that fires at readyAt, or nil if readyAt has
// already passed. See armSlack.
func (q *Queue[K]) armTimer(readyAt time.Time) clock.Timer {
	for attempt := 1; ; attempt++ {
		before := q.clock.Now()
		d := readyAt.Sub(before)
		if d <= 0 {
			return nil
		}
		t := q.clock.NewTimer(d)
		if q.clock.Since(before) <= armSlack || attempt >= maxArmAttempts {
			return t
		}
		t.Stop()
	}
}

// waitEntry is one delayed key in the heap.
type waitEntry[K comparable] struct {
	key     K
	readyAt time.Time
	seq     uint64 // breaks ties between equal ready times: first added first
	index   int    // position in the heap, maintained by Swap/Push/Pop
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

package workqueue

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Queue is a deduplicating FIFO work queue of keys. Create it with New; the
// zero value is not usable. All methods are safe for concurrent use.
//
// A key is in at most one of three states that matter to callers: pending
// (queued, waiting for a worker), processing (handed out by Get, not yet
// Done), or both (added again while processing: it is queued once more when
// Done is called). A key may also wait in the delay heap, independently.
type Queue[K comparable] struct {
	name      string
	clock     clock.WithDelayedExecution
	baseDelay time.Duration
	maxDelay  time.Duration
	metrics   queueMetrics

	mu      sync.Mutex
	ready   *sync.Cond // signalled when a key is queued; broadcast on shutdown
	drained *sync.Cond // broadcast when the last key being processed is Done during shutdown

	lanes        [numLanes]lane[K] // pending keys, FIFO per lane; the first non-empty lane is served
	laneOf       map[K]int         // the lane of each dirty key
	dirty        map[K]struct{}    // keys that need processing: queued, or re-added while processing
	processing   map[K]struct{}    // keys handed out by Get and not yet Done
	shuttingDown bool
	getWaiters   int // Get calls blocked on ready; read by tests

	queuedAt  map[K]time.Time // when each pending key was queued (queue duration)
	startedAt map[K]time.Time // when each processing key was handed out (work duration)

	failures map[K]int           // AddRateLimited count per key since Forget
	waiting  waitHeap[K]         // delayed keys, earliest ready time first
	waitIdx  map[K]*waitEntry[K] // delayed keys by key, for dedup
	waitSeq  uint64              // insertion order, to keep equal ready times FIFO
}

// New validates opts and returns a queue.
// It starts no goroutine: a delayed key waits on a timer of the queue's
// clock, stopped by ShutDown.
func New[K comparable](opts Options) (*Queue[K], error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	q := &Queue[K]{
		name:       opts.Name,
		clock:      opts.Clock,
		baseDelay:  opts.BaseDelay,
		maxDelay:   opts.MaxDelay,
		metrics:    newQueueMetrics(opts.Metrics, opts.Name),
		queuedAt:   make(map[K]time.Time),
		startedAt:  make(map[K]time.Time),
		dirty:      make(map[K]struct{}),
		processing: make(map[K]struct{}),
		failures:   make(map[K]int),
		waitIdx:    make(map[K]*waitEntry[K]),
		laneOf:     make(map[K]int),
	}
	q.ready = sync.NewCond(&q.mu)
	q.drained = sync.NewCond(&q.mu)
	return q, nil
}

// Name returns Options.Name.
func (q *Queue[K]) Name() string { return q.name }

// Add queues k unless it is already pending. If k is being processed it is
// queued when Done(k) is called. Add after shutdown is ignored.
func (q *Queue[K]) Add(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(k, laneNormal)
}

// addLocked queues k in lane l. A key already pending in a later lane moves
// to l; in l or an earlier lane it keeps its place.
func (q *Queue[K]) addLocked(k K, l int) {
	if q.shuttingDown {
		return
	}
	_, busy := q.processing[k]
	if _, ok := q.dirty[k]; ok {
		if cur := q.laneOf[k]; l < cur {
			q.laneOf[k] = l
			if !busy { // its entry in cur is now stale
				q.lanes[cur].pending--
				q.metrics.depth.Dec()
				q.enqueueLocked(k, l)
			}
		}
		return
	}
	q.dirty[k] = struct{}{}
	q.laneOf[k] = l
	q.metrics.adds.Inc()
	if busy {
		return
	}
	q.enqueueLocked(k, l)
}

// enqueueLocked appends k to lane l and wakes a Get.
func (q *Queue[K]) enqueueLocked(k K, l int) {
	q.lanes[l].keys = append(q.lanes[l].keys, k)
	q.lanes[l].pending++
	q.queuedAt[k] = q.clock.Now()
	q.metrics.depth.Inc()
	q.ready.Signal()
}

// Get blocks until a key is pending or the queue shuts down. It returns the
// oldest pending key and marks it processing; the caller must call Done(k)
// when finished. After ShutDown, Get still hands out the keys that were
// pending (client-go's contract: workers drain the queue) and returns
// shutdown=true (and the zero key) once none is left.
func (q *Queue[K]) Get() (k K, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pendingLocked() == 0 && !q.shuttingDown {
		q.getWaiters++
		q.ready.Wait()
		q.getWaiters--
	}
	if q.pendingLocked() == 0 {
		return k, true
	}
	k = q.popLocked()
	q.processing[k] = struct{}{}
	delete(q.dirty, k)
	delete(q.laneOf, k)
	now := q.clock.Now()
	q.metrics.depth.Dec()
	if t, ok := q.queuedAt[k]; ok {
		q.metrics.latency.Observe(now.Sub(t).Seconds())
		delete(q.queuedAt, k)
	}
	q.startedAt[k] = now
	return k, false
}

// Done marks k finished. If k was added while it was processing, it is
// queued again now. Done for a key that is not processing is ignored.
func (q *Queue[K]) Done(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.processing[k]; !ok {
		return
	}
	delete(q.processing, k)
	if t, ok := q.startedAt[k]; ok {
		q.metrics.work.Observe(q.clock.Since(t).Seconds())
		delete(q.startedAt, k)
	}
	if _, ok := q.dirty[k]; ok { // added while processing (before any shutdown)
		q.enqueueLocked(k, q.laneOf[k])
	}
	if q.shuttingDown && len(q.processing) == 0 {
		q.drained.Broadcast()
	}
}

// Len returns the number of pending keys (not those processing or delayed).
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pendingLocked()
}

// ShutDown stops the queue, as client-go's does: later adds are ignored,
// delayed keys are dropped (their timers stopped), Get keeps handing out the
// keys already pending and then returns shutdown=true, to blocked and future
// callers alike. It does not wait for keys being processed; Done on them is
// still accepted, and a key added while it was processing (before ShutDown)
// is pending again after its Done. Calling it again is a no-op.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDownLocked()
}

// ShutDownWithDrain is ShutDown, and then blocks until no key is being
// processed (client-go's ShutDownWithDrain): workers that keep calling Get
// and Done empty the queue first. It blocks forever if a worker never calls
// Done.
func (q *Queue[K]) ShutDownWithDrain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutDownLocked()
	for len(q.processing) > 0 {
		q.drained.Wait()
	}
}

func (q *Queue[K]) shutDownLocked() {
	if q.shuttingDown {
		return
	}
	q.shuttingDown = true
	q.stopWaitingLocked()
	q.ready.Broadcast()
}

// ShuttingDown reports whether ShutDown or ShutDownWithDrain has been called.
func (q *Queue[K]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

package workqueue

// The lanes, served in this order: a key is handed out only when no key of
// an earlier lane is pending. Add uses the normal lane; AddFirst the first
// (work someone waits for); AddBack the last (work that matters less, e.g.
// groups nobody stores), so that however much of it there is, it never
// delays the rest.
const (
	laneFirst = iota
	laneNormal
	laneBack
	numLanes
)

// lane is one FIFO of pending keys. A key that moved to an earlier lane
// leaves a stale entry behind, skipped when it comes up: an entry is live
// when its key is dirty, not processing and belongs to this lane.
type lane[K comparable] struct {
	keys    []K
	pending int // live entries
}

// AddFirst queues k ahead of every key added with Add or AddBack (behind
// the keys added with AddFirst before it), moving it forward if it is
// pending already. If k is being processed it is queued again, first, when
// Done(k) is called. AddFirst after shutdown is ignored.
func (q *Queue[K]) AddFirst(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(k, laneFirst)
}

// AddBack queues k behind every key added with Add or AddFirst (and behind
// the keys added with AddBack before it), unless it is already pending: a
// pending key keeps its place. If k is being processed it is queued again,
// at the back, when Done(k) is called. Add of a key waiting here moves it
// forward. AddBack after shutdown is ignored.
func (q *Queue[K]) AddBack(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(k, laneBack)
}

// pendingLocked is the number of keys waiting in all lanes.
func (q *Queue[K]) pendingLocked() int {
	n := 0
	for i := range q.lanes {
		n += q.lanes[i].pending
	}
	return n
}

// popLocked takes the oldest live key of the first lane that has one; the
// caller has checked that one is pending.
func (q *Queue[K]) popLocked() K {
	var zero K
	for i := range q.lanes {
		l := &q.lanes[i]
		for l.pending > 0 {
			k := l.keys[0]
			l.keys[0] = zero // let the backing array drop the reference
			l.keys = l.keys[1:]
			_, dirty := q.dirty[k]
			_, busy := q.processing[k]
			if !dirty || busy || q.laneOf[k] != i {
				continue // stale: moved forward, or queued again on Done
			}
			l.pending--
			return k
		}
		l.keys = nil // only stale entries left: let them go
	}
	panic("workqueue: popLocked with nothing pending")
}

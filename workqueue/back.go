package workqueue

// backLane holds the keys added with AddBack: they are handed out only when
// no key added with Add is pending, so work that matters less (groups
// nobody stores) never delays the rest however much of it there is.
//
// A key moved to the front (Add while it waits here) leaves a stale entry
// in keys, skipped when it comes up; want says which keys still belong here.
type backLane[K comparable] struct {
	keys    []K            // FIFO, may hold stale entries
	want    map[K]struct{} // dirty keys whose place is this lane
	pending int            // keys queued here (not stale, not processing)
}

func (b *backLane[K]) wants(k K) bool {
	_, ok := b.want[k]
	return ok
}

func (b *backLane[K]) drop(k K) { delete(b.want, k) }

// AddBack queues k behind every key added with Add (and behind the keys
// added with AddBack before it), unless it is already pending; a key
// already pending keeps its place. If k is being processed it is queued
// again, at the back, when Done(k) is called. Add of a key waiting here
// moves it to the front. AddBack after shutdown is ignored.
func (q *Queue[K]) AddBack(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(k, true)
}

// enqueueBackLocked appends k to the back lane and wakes a Get.
func (q *Queue[K]) enqueueBackLocked(k K) {
	q.back.keys = append(q.back.keys, k)
	q.back.pending++
	q.queuedAt[k] = q.clock.Now()
	q.metrics.depth.Inc()
	q.ready.Signal()
}

// popBackLocked takes the oldest key queued in the back lane; the caller
// has checked that one is pending.
func (q *Queue[K]) popBackLocked() K {
	var zero K
	for {
		k := q.back.keys[0]
		q.back.keys[0] = zero
		q.back.keys = q.back.keys[1:]
		_, busy := q.processing[k]
		if !q.back.wants(k) || busy {
			continue // moved to the front, or queued again on Done
		}
		q.back.drop(k)
		q.back.pending--
		if len(q.back.keys) == 0 {
			q.back.keys = nil // let a drained lane release its array
		}
		return k
	}
}

package workqueue_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

// TestQueue_ConcurrentWorkersAndAdders hammers one queue from several adders
// (Add, AddAfter, AddRateLimited) and workers on the real clock. It checks
// that no key is ever processed by two workers at once, and that every key
// is processed at least once after its last add.
func TestQueue_ConcurrentWorkersAndAdders(t *testing.T) {
	const (
		keys       = 64
		workers    = 8
		adders     = 4
		addsPerAdd = 3000
	)
	opts := workqueue.DefaultOptions()
	opts.BaseDelay = 50 * time.Microsecond
	opts.MaxDelay = 2 * time.Millisecond
	q := newQueue[int](t, opts)

	var (
		seq       atomic.Int64 // global order of adds and Get returns
		lastAdd   [keys]atomic.Int64
		lastStart [keys]atomic.Int64
		inFlight  [keys]atomic.Int32
		overlaps  atomic.Int32
		processed atomic.Int64
	)
	storeMax := func(v *atomic.Int64, n int64) {
		for {
			old := v.Load()
			if n <= old || v.CompareAndSwap(old, n) {
				return
			}
		}
	}

	var workersDone sync.WaitGroup
	for range workers {
		workersDone.Go(func() {
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				storeMax(&lastStart[k], seq.Add(1))
				if inFlight[k].Add(1) != 1 {
					overlaps.Add(1)
				}
				runtime.Gosched() // widen the window for a second worker to collide
				inFlight[k].Add(-1)
				if rand.IntN(4) == 0 {
					q.Forget(k)
				}
				processed.Add(1)
				q.Done(k)
			}
		})
	}

	var addersDone sync.WaitGroup
	for a := range adders {
		addersDone.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(a), 42))
			for range addsPerAdd {
				if rng.IntN(4) == 0 {
					runtime.Gosched() // let workers run between adds
				}
				k := rng.IntN(keys)
				storeMax(&lastAdd[k], seq.Add(1)) // before the add: a later start is after it
				switch r := rng.IntN(10); {
				case r < 8:
					q.Add(k)
				case r < 9:
					q.AddAfter(k, time.Duration(rng.IntN(500))*time.Microsecond)
				default:
					q.AddRateLimited(k)
				}
			}
		})
	}
	addersDone.Wait()

	require.Eventually(t, func() bool {
		for k := range keys {
			if lastAdd[k].Load() > 0 && lastStart[k].Load() <= lastAdd[k].Load() {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond, "some key was not processed after its last add")

	q.ShutDownWithDrain()
	workersDone.Wait()
	require.Zero(t, overlaps.Load(), "a key was processed by two workers at once")
	require.Positive(t, processed.Load())
	t.Logf("adds=%d processed=%d", adders*addsPerAdd, processed.Load())
}

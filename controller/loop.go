package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/workqueue"
)

// reconciler holds the loop: state, the queue, the workers and the sync
// loop that refreshes desired and observed state.
type reconciler struct {
	store sources.Store
	down  plugin.Group
	log   logr.Logger
	clock clock.WithTicker

	resync  time.Duration
	workers int

	state *state
	locks keyLocks
	// ops is read-held by every downstream commit and write-held briefly by
	// sync before it observes, so that after a leadership loss the free pass
	// starts only once in-flight (cancelled) commits have returned.
	ops sync.RWMutex
	// storeMu serialises our own store reads and writes, so a sync's load
	// never overwrites the cache with a config older than a write we made.
	storeMu sync.Mutex

	w      *writer // stores the front's writes
	queue  *workqueue.Queue[plugin.ID]
	syncCh chan struct{}
	rid    atomic.Uint64
}

func newReconciler(store sources.Store, down plugin.Group, o *Options) (*reconciler, error) {
	qo := workqueue.DefaultOptions()
	qo.Clock = o.Clock
	qo.Name = "groups"
	if o.MaxBackoff > 0 {
		qo.MaxDelay = o.MaxBackoff
	}
	q, err := workqueue.New[plugin.ID](qo)
	if err != nil {
		return nil, err
	}
	r := &reconciler{
		store: store, down: down, log: o.Log, clock: o.Clock,
		resync: o.ResyncInterval, workers: o.Workers,
		state: newState(), queue: q, syncCh: make(chan struct{}, 1),
	}
	r.w = &writer{r: r}
	return r, nil
}

// setLeader is the Leadership callback.
func (r *reconciler) setLeader(base context.Context, leader bool) {
	changed, term := r.state.setLeader(base, leader)
	if !changed {
		return
	}
	r.log.Info("leadership changed", "leader", leader, "term", term)
	r.triggerSync()
}

func (r *reconciler) triggerSync() {
	select {
	case r.syncCh <- struct{}{}:
	default: // one is pending already; it will see the newest state
	}
}

// sync re-reads desired state (if leader) and observed state. A store that
// cannot be read leaves the controller waiting, never acting on a guess.
func (r *reconciler) sync(ctx context.Context) error {
	var errs []error
	term, leader := r.state.currentTerm()
	if leader {
		r.storeMu.Lock()
		cfg, v, err := r.store.Load(ctx)
		if err == nil {
			r.state.setDesired(term, cfg, v)
			r.w.remember(cfg, v)
		} else {
			r.w.forget()
		}
		r.storeMu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrDesiredUnknown, err))
		}
	} else {
		r.state.clearDesired()
	}
	r.ops.Lock()
	r.ops.Unlock() //nolint:staticcheck // a barrier: wait for in-flight commits
	specs, err := r.down.InspectGroups(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("observe downstream: %w", err))
	} else {
		r.state.setObserved(specs)
	}
	return errors.Join(errs...)
}

func (r *reconciler) enqueueAll() int {
	keys := r.state.keys()
	for _, id := range keys {
		r.queue.Add(id)
	}
	return len(keys)
}

// syncRetry is the delay between failed syncs: 50ms doubling, capped at
// the resync interval, so a store or plugin that comes back is noticed fast.
func (r *reconciler) syncRetry() wait.Backoff {
	return wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 64, Cap: r.resync}
}

// runSync refreshes on demand (leadership changes) and every resync
// interval (jittered by up to 10% so replicas do not resync in lockstep).
func (r *reconciler) runSync(ctx context.Context) {
	retry := r.syncRetry()
	timer := r.clock.NewTimer(0)
	defer timer.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.syncCh:
		case <-timer.C():
		}
		err := r.sync(ctx)
		n := r.enqueueAll()
		next := wait.Jitter(r.resync, 0.1)
		if err != nil {
			if err.Error() != lastErr {
				r.log.Error(err, "sync failed, retrying")
			}
			lastErr = err.Error()
			next = retry.Step()
		} else {
			if lastErr != "" {
				r.log.Info("sync recovered")
			}
			lastErr, retry = "", r.syncRetry()
		}
		r.log.V(2).Info("synced", "groups", n)
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(next)
	}
}

func (r *reconciler) runWorker(ctx context.Context) {
	for {
		id, shutdown := r.queue.Get()
		if shutdown {
			return
		}
		r.processOne(ctx, id)
	}
}

func (r *reconciler) processOne(ctx context.Context, id plugin.ID) {
	defer r.queue.Done(id)
	log := r.log.WithValues("group", id, "reconcileID", r.rid.Add(1))
	err := r.reconcile(logr.NewContext(ctx, log), id)
	switch {
	case err == nil:
		r.queue.Forget(id)
	case ctx.Err() != nil:
		r.queue.Forget(id)
	case IsTerminal(err):
		log.Error(err, "reconcile failed, not retrying until something changes")
		r.queue.Forget(id)
	default:
		log.Error(err, "reconcile failed, retrying", "attempt", r.queue.NumRequeues(id)+1)
		r.queue.AddRateLimited(id)
	}
}

// sortedKeys is keys() in ID order, for reports.
func (r *reconciler) sortedKeys() []plugin.ID {
	keys := r.state.keys()
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

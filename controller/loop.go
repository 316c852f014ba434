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

	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/workqueue"
)

// reconciler is the only actor on the downstream: the lease, desired and
// observed state, pending intents, the queue, the workers and the sync
// loop that refreshes both sides.
//
// Lock order: storeMu, then desired.mu. lease.notify, then lease.mu. Every
// other mutex (observed, intents, writer, lease.mu once taken) is a leaf:
// nothing else is locked while it is held, and no mutex is held across a
// downstream call or a leadership check. Store calls are made only under
// storeMu.
type reconciler struct {
	store   sources.Store // bounded: every call has a deadline
	down    plugin.Group
	log     logr.Logger
	clock   clock.WithTicker
	lease   *lease
	desired *desired
	obs     *observed
	intents *intents
	w       *writer
	health  *health // claims not held (health.go)

	metrics     *ops.Metrics   // nil-safe
	ledger      *ops.Ledger    // each group's last reconcile, for Status
	syncBeat    *ops.Heartbeat // the sync loop made a round
	leaseBeat   *ops.Heartbeat // the lease loop made a renewal tick
	resync      time.Duration
	callTimeout time.Duration
	workers     int

	// storeMu serialises this replica's store reads and writes, so a sync's
	// read never installs a config older than a write we made.
	storeMu sync.Mutex
	// draining counts the ended terms whose calls have not all returned:
	// one per term, so the end of one term's drain never hides another's.
	draining atomic.Int32
	queue    *workqueue.Queue[plugin.ID]
	syncCh   chan struct{}
	rid      atomic.Uint64
}

func newReconciler(o *Options, store sources.Store, down plugin.Group) (*reconciler, error) {
	qo := workqueue.DefaultOptions()
	qo.Clock = o.Clock
	qo.Name = "groups"
	qo.Metrics = o.Metrics
	if o.MaxBackoff > 0 {
		qo.MaxDelay = o.MaxBackoff
	}
	q, err := workqueue.New[plugin.ID](qo)
	if err != nil {
		return nil, err
	}
	r := &reconciler{
		store: newBoundedStore(store, o.StoreTimeout), down: down, log: o.Log, clock: o.Clock,
		desired: newDesired(), obs: newObserved(), intents: newIntents(), health: newHealth(o),
		metrics: o.Metrics, ledger: ops.NewLedger(o.Clock), syncBeat: ops.NewHeartbeat(o.Clock), leaseBeat: ops.NewHeartbeat(o.Clock),
		resync: o.ResyncInterval, callTimeout: o.CallTimeout, workers: o.Workers,
		queue: q, syncCh: make(chan struct{}, 1),
	}
	r.lease = newLease(o.Leadership, leaseOptions{
		duration: o.LeaseDuration, renew: o.RenewInterval, checkTimeout: o.CheckTimeout,
		clock: o.Clock, log: o.Log.WithName("lease"),
	}, r.onLeaseChange)
	r.lease.onTick = func() {
		r.leaseBeat.Beat()
		r.metrics.SetLease(r.lease.view().state())
	}
	r.w = &writer{r: r}
	return r, nil
}

// onLeaseChange is called, in order, for every role change. Gaining
// leadership makes the desired state stale (it is re-read before anything
// is acted on). Losing it has already cancelled the term's context; the
// frees wait (bounded) until the term's in-flight calls have returned.
func (r *reconciler) onLeaseChange(c leaseChange) {
	id := uint64(0)
	if c.term != nil {
		id = c.term.id
	}
	r.log.Info("leadership changed", "leader", c.role == RoleLeader, "role", c.role.String(), "term", id, "reason", c.reason)
	v := r.lease.view()
	r.metrics.SetLeader(c.role == RoleLeader)
	r.metrics.SetTerm(v.Term)
	r.metrics.SetLease(v.state())
	if c.role == RoleLeader {
		// desired state is fresh for this term only once a read that
		// began in it (or a save of it) is installed: see desired.
		r.triggerSync()
		return
	}
	r.obs.forgetDestroyed() // the next leader owns what happens to them
	if c.term == nil {
		r.triggerSync()
		return
	}
	r.draining.Add(1)
	go func() {
		if !c.term.wait(r.callTimeout + time.Second) {
			r.log.Info("calls of the ended term still running, freeing anyway", "term", id)
		}
		r.draining.Add(-1)
		r.triggerSync()
	}()
}

// isDraining reports whether an ended term's calls may still be running.
func (r *reconciler) isDraining() bool { return r.draining.Load() > 0 }

// leaderTerm is the term to plan in: the current one while leading, 0
// (never fresh) otherwise.
func (r *reconciler) leaderTerm(v leaseView) uint64 {
	if v.Role != RoleLeader {
		return 0
	}
	return v.Term
}

func (r *reconciler) triggerSync() {
	select {
	case r.syncCh <- struct{}{}:
	default: // one is pending already; it will see the newest state
	}
}

// sync re-reads desired state (the store) and observed state (the
// downstream's InspectGroups). A store that cannot be read leaves desired
// state unknown, never empty: the leader then changes nothing.
func (r *reconciler) sync(ctx context.Context) error {
	var errs []error
	r.storeMu.Lock()
	term := r.lease.view().Term // the term in which this read begins
	cfg, v, err := r.store.Load(ctx)
	if err == nil {
		r.desired.install(cfg, v, term)
		r.metrics.SetStoredGroups(len(cfg.Groups))
	} else {
		r.desired.fail(err)
	}
	r.storeMu.Unlock()
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrDesiredUnknown, err))
	}
	start := r.obs.begin()
	specs, err := r.down.InspectGroups(ctx)
	if err != nil {
		r.obs.fail(err)
		errs = append(errs, fmt.Errorf("observe downstream: %w", err))
	} else {
		r.obs.install(start, specs)
	}
	return errors.Join(errs...)
}

// stager returns the store's two-phase save, if it has one.
func (r *reconciler) stager() (sources.Stager, bool) {
	if b, ok := r.store.(*boundedStore); ok {
		return b.stager()
	}
	st, ok := r.store.(sources.Stager)
	return st, ok
}

// savesChanges reports whether the store saves the changed groups alone
// (sources.ChangeSaver, the etcd store).
func (r *reconciler) savesChanges() bool {
	if b, ok := r.store.(*boundedStore); ok {
		_, ok = b.s.(sources.ChangeSaver)
		return ok
	}
	return false
}

// keys returns every group that is stored, running or has an intent.
func (r *reconciler) keys() []plugin.ID {
	seen := map[plugin.ID]bool{}
	var out []plugin.ID
	for _, ks := range [][]plugin.ID{r.desired.keys(), r.obs.keys(), r.intents.keys()} {
		for _, id := range ks {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// enqueueAll reconciles every group that is stored, running or has an
// intent. A stored group found converged is settled here (settle.go);
// the rest are queued. Groups with a user's intent go first, stored groups
// next; groups only the downstream names go to the back lane, so however
// many it lists, the stored groups never wait behind them (and the users
// never wait behind a resync of every stored group).
func (r *reconciler) enqueueAll() int {
	intents, stored := r.intents.keys(), r.desired.keys()
	for _, id := range intents {
		r.queue.AddFirst(id)
	}
	draining := r.isDraining()
	for _, id := range stored {
		if !r.settle(id, draining) {
			r.queue.Add(id) // one with an intent is queued already and keeps its place
		}
	}
	n := len(intents) + len(stored)
	for _, id := range r.obs.keys() {
		if r.desired.has(id) {
			continue // settled or queued above
		}
		r.queue.AddBack(id) // one with an intent is queued already and keeps its place
		n++
	}
	return n
}

// forgetUnnamed drops the ledger records of groups that are neither
// stored, running nor pending: state follows what the store and the
// downstream name. Called once per sync.
func (r *reconciler) forgetUnnamed() {
	if n := r.ledger.RetainFunc(func(id plugin.ID) bool {
		return r.desired.has(id) || r.obs.has(id) || r.intents.has(id)
	}); n > 0 {
		r.log.V(1).Info("forgot groups no longer stored nor running", "groups", n)
	}
}

// syncRetry is the delay between failed syncs: 50ms doubling, capped at
// the resync interval, so a store or plugin that comes back is noticed fast.
func (r *reconciler) syncRetry() wait.Backoff {
	return wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 64, Cap: r.resync}
}

// runSync refreshes on demand (role changes, SIGHUP) and every resync
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
		r.syncBeat.Beat()
		if err == nil {
			r.forgetUnnamed()
		}
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
		if ctx.Err() != nil { // stopping: the queue hands out what was pending; act on none of it
			r.queue.Done(id)
			continue
		}
		r.processOne(ctx, id)
	}
}

func (r *reconciler) processOne(ctx context.Context, id plugin.ID) {
	defer r.queue.Done(id)
	log := r.log.WithValues("group", id, "reconcileID", r.rid.Add(1))
	start := time.Now()
	p, out := r.reconcile(logr.NewContext(ctx, log), id)
	err := out.err
	result := ops.ResultSuccess
	switch {
	case err == nil, ctx.Err() != nil, errors.Is(err, errWaiting):
		// Waiting plans are retried by the sync loop once what was
		// unknown is known again.
		r.queue.Forget(id)
	case IsTerminal(err):
		// Not running downstream: the user who asked gets the plugin's
		// answer; it is no failure of the manager's.
		if !errors.Is(err, ErrNotLeader) && !notWatched(err) {
			log.Error(err, "reconcile failed, not retrying until something changes", "action", string(p.Action))
		}
		result = ops.ResultError
		r.queue.Forget(id)
	default:
		log.Error(err, "reconcile failed, retrying", "action", string(p.Action), "attempt", r.queue.NumRequeues(id)+1)
		result = ops.ResultError
		r.queue.AddRateLimited(id)
	}
	r.metrics.ReconcileDone(result, time.Since(start))
	r.record(p, err)
}

// record notes one reconcile in the ledger Manager.Status reports.
func (r *reconciler) record(p Plan, err error) {
	if errors.Is(err, errHandover) {
		p.Action, p.Reason = ActionWait, "handover: the previous leader may still act"
	}
	if errors.Is(err, errWaiting) {
		err = nil // waiting is an outcome, not a failure
	}
	switch {
	case p.Action == ActionNoop && err == nil && r.ledgerHas(p.ID):
		// A converged group keeps its last real action in the ledger.
	case (p.Action == ActionFree || p.Action == ActionDestroy) && (err == nil || notWatched(err)) && !r.desired.has(p.ID):
		// Gone from both sides (or never there: an unknown ID): nothing
		// is kept about it.
		r.ledger.Forget(p.ID)
	case p.Action == ActionNoop && err == nil && !r.desired.has(p.ID) && !r.obs.has(p.ID):
		// Neither stored nor running: nothing to report, nothing kept.
	default:
		r.ledger.Record(p.ID, string(p.Action), err, p.Reason)
	}
}

// ledgerHas reports whether the ledger holds a record of id.
func (r *reconciler) ledgerHas(id plugin.ID) bool {
	_, ok := r.ledger.Get(id)
	return ok
}

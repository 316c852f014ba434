package reconciler

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

	"github.com/infrakit-manager/manager/controller/lease"
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
type Reconciler struct {
	store   sources.Store // bound(bounded): every call has a deadline; the wrapped store's capabilities only
	bounded *boundedStore // the same store's bounds and its last write's failure (health)
	down    plugin.Group
	log     logr.Logger
	clock   clock.WithTicker
	lease   *lease.Lease
	desired *desired
	obs     *observed
	intents *intents
	w       *writer
	hand    *handover // the handover of each term (handover.go); nil until newHandover

	metrics     *ops.Metrics   // nil-safe
	ledger      *ops.Ledger    // each group's last reconcile, for Status
	syncBeat    *ops.Heartbeat // the sync loop made a round
	leaseBeat   *ops.Heartbeat // the lease loop made a renewal tick
	resync      time.Duration
	callTimeout time.Duration
	proxyFor    string // the downstream, for the problems' text
	pluginDir   string
	applyWait   time.Duration // how long Submit waits for the answer
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

func newReconciler(o *Options, store sources.Store, down plugin.Group) (*Reconciler, error) {
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
	r := &Reconciler{
		bounded: newBoundedStore(store, o.StoreTimeout, o.Log.WithName("store")), down: down, log: o.Log, clock: o.Clock,
		desired: newDesired(), obs: newObserved(), intents: newIntents(), proxyFor: o.ProxyFor, pluginDir: o.PluginDir,
		metrics: o.Metrics, ledger: ops.NewLedger(o.Clock), syncBeat: ops.NewHeartbeat(o.Clock), leaseBeat: ops.NewHeartbeat(o.Clock),
		resync: o.ResyncInterval, callTimeout: o.CallTimeout, applyWait: o.ApplyWait, workers: o.Workers,
		queue: q, syncCh: make(chan struct{}, 1),
	}
	lo := lease.Options{
		Duration: o.LeaseDuration, RenewInterval: o.RenewInterval, CheckTimeout: o.CheckTimeout,
		Fenced: o.Handover == HandoverFenced, Clock: o.Clock, Log: o.Log.WithName("lease"),
	}
	if err := lo.Validate(); err != nil {
		return nil, err
	}
	r.lease = lease.New(o.Leadership, lo, r.onLeaseChange)
	r.store = bound(r.bounded)
	r.w = &writer{r: r}
	return r, nil
}

// leaseTick runs after every renewal tick of the lease loop.
func (r *Reconciler) leaseTick() {
	r.leaseBeat.Beat()
	r.metrics.SetLease(r.lease.View().State())
}

// onLeaseChange is called, in order, for every role change: the handover
// hears of it first (it claims or releases the term's record). Gaining
// leadership makes the desired state stale (it is re-read before anything
// is acted on). Losing it has already cancelled the term's context; the
// frees wait (bounded) until the term's in-flight calls have returned.
func (r *Reconciler) onLeaseChange(c lease.Change) {
	if r.hand != nil {
		r.hand.changed(c)
	}
	id := uint64(0)
	if c.Term != nil {
		id = c.Term.ID()
	}
	r.log.Info("leadership changed", "leader", c.Role == lease.RoleLeader, "role", c.Role.String(), "term", id, "reason", c.Reason)
	v := r.lease.View()
	r.metrics.SetLeader(c.Role == lease.RoleLeader)
	r.metrics.SetTerm(v.Term)
	r.metrics.SetLease(v.State())
	if c.Role == lease.RoleLeader {
		// desired state is fresh for this term only once a read that
		// began in it (or a save of it) is installed: see desired.
		r.triggerSync()
		return
	}
	r.obs.forgetDestroyed() // the next leader owns what happens to them
	if c.Term == nil {
		r.triggerSync()
		return
	}
	r.draining.Add(1)
	go func() {
		if !c.Term.Wait(r.callTimeout + time.Second) {
			r.log.Info("calls of the ended term still running, freeing anyway", "term", id)
		}
		r.draining.Add(-1)
		r.triggerSync()
	}()
}

// isDraining reports whether an ended term's calls may still be running.
func (r *Reconciler) isDraining() bool { return r.draining.Load() > 0 }

// leaderTerm is the term to plan in: the current one while leading, 0
// (never fresh) otherwise.
func (r *Reconciler) leaderTerm(v lease.View) uint64 {
	if v.Role != lease.RoleLeader {
		return 0
	}
	return v.Term
}

func (r *Reconciler) triggerSync() {
	select {
	case r.syncCh <- struct{}{}:
	default: // one is pending already; it will see the newest state
	}
}

// sync re-reads desired state (the store) and observed state (the
// downstream's InspectGroups). A store that cannot be read leaves desired
// state unknown, never empty: the leader then changes nothing.
func (r *Reconciler) sync(ctx context.Context) error {
	var errs []error
	r.storeMu.Lock()
	term := r.lease.View().Term // the term in which this read begins
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

// keys returns every group that is stored, running or has an intent.
func (r *Reconciler) keys() []plugin.ID {
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
func (r *Reconciler) enqueueAll() int {
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
func (r *Reconciler) forgetUnnamed() {
	if n := r.ledger.RetainFunc(func(id plugin.ID) bool {
		return r.desired.has(id) || r.obs.has(id) || r.intents.has(id)
	}); n > 0 {
		r.log.V(1).Info("forgot groups no longer stored nor running", "groups", n)
	}
}

// syncRetry is the delay between failed syncs: 50ms doubling, capped at
// the resync interval, so a store or plugin that comes back is noticed fast.
func (r *Reconciler) syncRetry() wait.Backoff {
	return wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 64, Cap: r.resync}
}

// runSync refreshes on demand (role changes, SIGHUP) and every resync
// interval (jittered by up to 10% so replicas do not resync in lockstep).
func (r *Reconciler) runSync(ctx context.Context) {
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

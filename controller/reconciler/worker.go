package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
)

// runWorker takes groups off the queue and reconciles each, one worker per
// group at a time (the queue never hands a key to two workers), until the
// queue is shut down.
func (r *Reconciler) runWorker(ctx context.Context) {
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

// processOne reconciles id once and decides its retry: waiting and
// terminal outcomes are not retried by the queue, failures are, with
// backoff.
func (r *Reconciler) processOne(ctx context.Context, id plugin.ID) {
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
		if !errors.Is(err, lease.ErrNotLeader) && !submit.NotWatched(err) {
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
func (r *Reconciler) record(p Plan, err error) {
	if errors.Is(err, errHandover) {
		p.Action, p.Reason = ActionWait, "handover: the previous leader may still act"
	}
	if errors.Is(err, errWaiting) {
		err = nil // waiting is an outcome, not a failure
	}
	switch {
	case p.Action == ActionNoop && err == nil && r.ledgerHas(p.ID):
		// A converged group keeps its last real action in the ledger.
	case (p.Action == ActionFree || p.Action == ActionDestroy) && (err == nil || submit.NotWatched(err)) && !r.desired.has(p.ID):
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
func (r *Reconciler) ledgerHas(id plugin.ID) bool {
	_, ok := r.ledger.Get(id)
	return ok
}

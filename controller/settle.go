package controller

import (
	"bytes"
	"time"

	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
)

// settle reconciles id inside the sync loop when the plan needs nothing
// done: the same plan a worker makes (plan, with the same reads), and a
// group it finds converged (a no-op, no user's intent) is counted and
// recorded as reconciled without going through the queue. Anything else
// (an action, a wait, an intent to answer) is left to the workers, the
// only ones that act. A resync of in-sync groups thus costs one comparison
// per group and no queue traffic. It reports whether id was settled.
//
// A change made after these reads is queued by whoever makes it (a
// submit, a worker's retry, the next sync), as it would be if id had been
// queued and found in sync a moment earlier.
func (r *reconciler) settle(id plugin.ID, draining bool) bool {
	start := time.Now()
	if r.intents.has(id) {
		return false
	}
	v := r.lease.view()
	d, o := r.desired.get(id, r.leaderTerm(v)), r.obs.get(id)
	p := plan(id, v.Role, d, o, intent{}, false, draining)
	if p.Action != ActionNoop {
		return false
	}
	r.converged(p, d, o)
	r.metrics.ReconcileDone(ops.ResultSuccess, time.Since(start))
	r.record(p, nil)
	return true
}

// converged notes what a no-op plan learnt: running properties found to
// mean the stored ones are not compared by meaning again while both stay
// byte-for-byte the same.
func (r *reconciler) converged(p Plan, d desiredView, o obsView) {
	if p.Reason == reasonAsStored && !bytes.Equal(o.sameAs, d.spec.Properties) {
		r.obs.learnSame(p.ID, o.seq, d.spec.Properties)
	}
}

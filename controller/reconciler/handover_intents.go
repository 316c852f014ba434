package reconciler

import (
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

// keep puts back an intent that reconcile took while the term's handover
// held the gate closed, waiters included, so that the user's request is
// carried out (and answered) once the handover ends instead of being
// answered "not applied yet". A request for another op recorded meanwhile
// supersedes it.
func (in *intents) keep(id plugin.ID, it intent) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cur, ok := in.m[id]
	switch {
	case !ok:
		c := it
		in.m[id] = &c
	case cur.op == it.op:
		cur.waiters = append(it.waiters, cur.waiters...)
		cur.since = min(cur.since, it.since)
		cur.wasStored = cur.wasStored || it.wasStored
	default:
		it.answer(outcome{err: submit.ErrSuperseded})
	}
}

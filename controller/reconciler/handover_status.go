package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/plugin"
)

// newHandover builds the handover of r's lease from the options and hooks
// it to the lease's role changes.
func newHandover(o *Options, r *Reconciler) *handover {
	h := &handover{
		lease: r.lease, rec: o.HandoverRecord, down: r.down, name: o.Name, instance: newInstanceID(),
		fenced: o.Handover == HandoverFenced, bound: o.handoverBound(), margin: o.HandoverMargin, timeout: o.StoreTimeout,
		drain: o.CallTimeout + time.Second, clock: o.Clock, log: o.Log.WithName("handover"), metrics: o.Metrics,
		onLift: func() { r.enqueueAll() },
		terms:  map[*lease.Term]*handoverTerm{}, lifted: map[uint64]bool{},
	}
	r.hand = h // its changed runs first on every role change (onLeaseChange)
	return h
}

// handoverBound is how long after first seeing itself lead a new leader
// waits at most: every other replica's last confirmation began before that
// moment (the leadership source named this replica by then), and a
// confirmation is acted on for at most the lease; the margin covers a call
// registered just before that lease lapsed.
func (o *Options) handoverBound() time.Duration { return o.LeaseDuration + o.HandoverMargin }

// setStatus records the newest handover's phase for Status and metrics.
func (h *handover) setStatus(t *lease.Term, phase, reason string, waited time.Duration) {
	h.mu.Lock()
	if h.status == nil || h.status.Term != t.ID() {
		h.since = t.Gained()
	}
	if phase != plugin.HandoverDone && h.status != nil && h.status.Term == t.ID() && h.status.Phase == plugin.HandoverDone {
		h.mu.Unlock()
		return // a late report after the end
	}
	mode := HandoverFast
	if h.fenced {
		mode = HandoverFenced
	}
	h.status = &plugin.HandoverStatus{Mode: mode, Term: t.ID(), Phase: phase, Reason: reason, Waited: waited}
	h.mu.Unlock()
	h.metrics.SetHandover(metricPhase(phase))
}

func metricPhase(phase string) string {
	switch phase {
	case plugin.HandoverWaitingRelease:
		return "waiting_release"
	case plugin.HandoverWaitingLease:
		return "waiting_lease"
	}
	return "done"
}

// view returns the newest handover, its wait measured up to now while it
// is in progress; nil if this replica never led.
func (h *handover) view() *plugin.HandoverStatus {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status == nil {
		return nil
	}
	st := *h.status
	if st.Phase != plugin.HandoverDone {
		st.Waited = h.clock.Since(h.since)
	}
	return &st
}

// problem is the status problem of a handover that has waited longer than
// the margin (a released handover takes milliseconds: the previous leader
// has not let go), or "".
func (h *handover) problem() string {
	st := h.view()
	if st == nil || st.Phase == plugin.HandoverDone || st.Waited < h.margin {
		return ""
	}
	return fmt.Sprintf("handover in progress (%s) for %s: %s", st.Phase, st.Waited.Round(time.Millisecond), st.Reason)
}

// settle waits, at most one record call, until the current term (if this
// replica leads) has claimed its record term and either acts or has begun
// to wait: Start returns with the first handover decided.
func (h *handover) settle(ctx context.Context) {
	t := h.lease.Current()
	if t == nil {
		return
	}
	h.mu.Lock()
	ht := h.terms[t]
	h.mu.Unlock()
	if ht == nil {
		return
	}
	timer := time.NewTimer(h.timeout)
	defer timer.Stop()
	select {
	case <-ht.decided:
	case <-timer.C:
	case <-ctx.Done():
	}
}

// waitCurrent waits until the current term, if this replica leads, has
// ended its handover, at most the lease bound plus one record call. It is
// how --once acts only where the daemon would.
func (h *handover) waitCurrent(ctx context.Context) {
	t := h.lease.Current()
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.bound+h.timeout)
	defer cancel()
	for h.lease.Fenced(t) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(handoverPoll):
		}
	}
}

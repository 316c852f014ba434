package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
)

// Action is what one reconcile of one group does.
type Action string

// The actions.
const (
	ActionNoop    Action = "noop"
	ActionCommit  Action = "commit"
	ActionFree    Action = "free"
	ActionDestroy Action = "destroy"
	// ActionWait: something needed to decide is unknown (leadership, the
	// store, the downstream): act on nothing.
	ActionWait Action = "wait"
)

// Plan is the decision for one group, with the reason in words.
type Plan struct {
	ID     plugin.ID
	Action Action
	Reason string
	Spec   plugin.Spec // for commit
	// Details answers a commit request that the loop already carried out
	// (a resync got to the stored spec first): the plugin's answer then.
	Details string
	role    Role
	intent  intent
	hasInt  bool
	// pending: the destroy is recorded in the store (Destroying); carried:
	// this replica destroyed it downstream already and only the store
	// record is left to remove; destroyed: a destroy intent found its group
	// destroyed already.
	pending, carried, destroyed bool
}

// plan decides what to do with one group from a consistent read of the
// role, the desired and observed state and the user's pending intent. It
// reads only its arguments; it never calls out.
func plan(id plugin.ID, role Role, d desiredView, o obsView, it intent, hasInt bool, draining bool) Plan {
	p := Plan{ID: id, Action: ActionNoop, role: role, intent: it, hasInt: hasInt}
	set := func(a Action, reason string) Plan { p.Action, p.Reason = a, reason; return p }
	switch role {
	case RoleUnknown:
		return set(ActionWait, "leadership not known yet")
	case RoleFollower:
		switch {
		case draining:
			return set(ActionWait, "waiting for the ended term's calls to return")
		case o.present:
			return set(ActionFree, "not leader")
		}
		return set(ActionNoop, "not leader, not running")
	}
	// Leader. Nothing is decided on a store not read in this term.
	switch {
	case d.err != nil:
		return set(ActionWait, "store unreadable: "+d.err.Error())
	case !d.fresh:
		return set(ActionWait, "store not read yet in this term")
	case d.invalid != nil:
		return set(ActionWait, "stored entry is invalid: "+d.invalid.Error())
	case d.stored:
		p.Spec = d.spec
		if hasInt && it.op == opCommit {
			if o.hasLA && o.applied.seq > it.since && sameProperties(o.applied.stored, d.spec.Properties) {
				p.Details = o.applied.details
				return set(ActionNoop, "committed since requested")
			}
			return set(ActionCommit, "commit requested")
		}
		if !o.known {
			return set(ActionWait, "downstream state not known yet")
		}
		if !o.present {
			return set(ActionCommit, "not running downstream")
		}
		if ok, why := o.inSync(d.spec); ok {
			return set(ActionNoop, why)
		}
		return set(ActionCommit, "running spec differs from stored spec")
	case d.destroying:
		// A pending destroy is carried out, never freed.
		p.Spec, p.pending = d.destSpec, true
		if o.gone && !o.present {
			p.carried = true
			return set(ActionDestroy, "destroyed downstream, pending destroy still stored")
		}
		return set(ActionDestroy, "destroy pending")
	case hasInt && it.op == opDestroy:
		if it.wasStored && !o.present {
			p.destroyed = true
			return set(ActionNoop, "destroyed since requested")
		}
		return set(ActionDestroy, "destroy requested")
	case hasInt && it.op == opFree:
		return set(ActionFree, "free requested")
	case o.present && o.gone:
		return set(ActionDestroy, "running again after this leader destroyed it (a late commit)")
	case o.present:
		return set(ActionFree, "running downstream, not stored")
	}
	return set(ActionNoop, "neither stored nor running")
}

// execute carries out a plan against the downstream and records the
// outcome in the observed state. Every change a leader makes goes through
// the lease's gate first, runs under the term's context and is counted as
// in flight in that term. Each change is logged at info with its reason.
func (r *reconciler) execute(ctx context.Context, p Plan) outcome {
	log := logr.FromContextOrDiscard(ctx).WithValues("action", string(p.Action), "reason", p.Reason)
	var t *term
	if p.Action == ActionCommit || p.Action == ActionDestroy || (p.Action == ActionFree && p.role == RoleLeader) {
		var err error
		if t, err = r.lease.confirm(ctx); err != nil {
			return outcome{err: Terminal(err)}
		}
		defer t.release()
		var cancel context.CancelFunc
		ctx, cancel = mergeCancel(ctx, t.ctx)
		defer cancel()
		// The gate again, as late as the client allows: just before each
		// request of this change is written.
		ctx = plugin.WithSendGate(ctx, r.lease.sendGate(t))
		log = log.WithValues("term", t.id)
	}
	lost := func(err error) error {
		notSent := errors.Is(err, plugin.ErrNotSent) // the send gate stopped it: the downstream never got it
		if notSent {
			log.Info("not sent: leadership lost before the request was written", "error", err.Error())
		}
		if t != nil && (t.ctx.Err() != nil || notSent) {
			return Terminal(fmt.Errorf("%s %q abandoned: leadership lost: %w (%w)", p.Action, p.ID, err, ErrNotLeader))
		}
		return fmt.Errorf("%s %q: %w", p.Action, p.ID, err)
	}
	switch p.Action {
	case ActionCommit:
		r.obs.committing(p.ID)
		details, err := r.down.CommitGroup(ctx, p.Spec, false)
		if err != nil {
			return outcome{err: lost(err)}
		}
		r.obs.committed(p.Spec, details)
		log.Info("committed group", "details", details)
		return outcome{details: details}
	case ActionDestroy:
		return r.destroy(ctx, log, p, lost)
	case ActionFree:
		err := r.down.FreeGroup(ctx, p.ID)
		switch {
		case err == nil:
			log.Info("freed group")
		case notWatched(err):
			// Not running there: the goal is reached. The user who asked
			// for a group that was neither stored nor running gets the
			// plugin's own answer.
			log.V(1).Info("group not running downstream", "answer", err.Error())
			if p.hasInt && !p.intent.wasStored {
				r.obs.removed(p.ID)
				return outcome{err: Terminal(err)}
			}
		default:
			return outcome{err: lost(err)}
		}
		r.obs.removed(p.ID)
		return outcome{}
	}
	return outcome{}
}

// reconcile is one level-triggered pass over one group: take the pending
// intent, read both sides, decide, act, answer the intent's waiters.
func (r *reconciler) reconcile(ctx context.Context, id plugin.ID) (Plan, outcome) {
	it, hasInt := r.intents.take(id)
	v := r.lease.view()
	d, o := r.desired.get(id, r.leaderTerm(v)), r.obs.get(id)
	p := plan(id, v.Role, d, o, it, hasInt, r.isDraining())
	var out outcome
	switch p.Action {
	case ActionNoop:
		r.converged(p, d, o)
		logr.FromContextOrDiscard(ctx).V(3).Info("in sync", "reason", p.Reason)
		out.details = p.Details
	case ActionWait:
		logr.FromContextOrDiscard(ctx).V(2).Info("waiting", "reason", p.Reason)
		out.err = errWaiting
	default:
		out = r.execute(ctx, p)
	}
	if hasInt {
		r.answer(p, it, out)
	}
	return p, out
}

// answer tells the intent's waiters how it went, and settles a destroy: it
// stays pending after a failure while this replica leads, and ends with
// success or with leadership.
func (r *reconciler) answer(p Plan, it intent, out outcome) {
	if p.role == RoleLeader && errors.Is(out.err, errHandover) {
		r.intents.keep(p.ID, it) // carried out and answered when the handover ends
		return
	}
	switch {
	case p.role != RoleLeader:
		out = outcome{err: ErrNotLeader}
	case errors.Is(out.err, errWaiting) && it.op == opCommit:
		out.err = fmt.Errorf("%w: %s", ErrNotApplied, p.Reason)
	case errors.Is(out.err, errWaiting):
		out.err = fmt.Errorf("%w: %s", errWaiting, p.Reason)
	case it.op == opDestroy && out.err == nil && p.Action != ActionDestroy && !p.destroyed:
		out.err = fmt.Errorf("destroy of %q: %w (the group is stored again)", p.ID, errSuperseded)
	}
	if it.op == opDestroy && (out.err == nil || p.role != RoleLeader || IsTerminal(out.err)) {
		r.intents.done(p.ID, opDestroy)
	}
	it.answer(out)
}

// notWatched reports the group plugin's answer for an unknown group, which
// for a free means the goal is already reached. The protocol carries it only
// as text ("Group '<id>' is not being watched"); a transport failure never
// counts, whatever it says.
func notWatched(err error) bool {
	return err != nil && !errors.Is(err, plugin.ErrUnreachable) &&
		strings.Contains(err.Error(), "is not being watched")
}

// mergeCancel returns a context cancelled when either parent is.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

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
	ActionNoop   Action = "noop"
	ActionCommit Action = "commit"
	ActionFree   Action = "free"
	ActionWait   Action = "wait" // desired state unknown: act on nothing
)

// Plan is the decision for one group, with the reason in words.
type Plan struct {
	ID     plugin.ID
	Action Action
	Reason string
	Spec   plugin.Spec // for commit
	term   uint64
	ctx    context.Context // the leadership term's context, for commits
}

// plan compares desired and observed state for one group. It reads only
// state; it never calls out.
func plan(id plugin.ID, s snapshot) (Plan, error) {
	p := Plan{ID: id, Action: ActionNoop, term: s.term, ctx: s.leaderCtx}
	switch {
	case s.leader && !s.desiredLoaded:
		p.Action, p.Reason = ActionWait, "leader, store not loaded yet"
		return p, nil
	case s.leader && s.invalid != nil:
		p.Action, p.Reason = ActionWait, "stored entry is invalid"
		return p, Terminal(s.invalid)
	case s.leader && s.isDesired:
		p.Spec = s.desired
		switch {
		case !s.observedLoaded:
			p.Action, p.Reason = ActionCommit, "downstream state unknown"
		case !s.isObserved:
			p.Action, p.Reason = ActionCommit, "not running downstream"
		case !sameProperties(s.desired.Properties, s.observed.Properties):
			p.Action, p.Reason = ActionCommit, "running spec differs from stored spec"
		default:
			p.Reason = "running as stored"
		}
	case s.isObserved:
		p.Action = ActionFree
		if s.leader {
			p.Reason = "running downstream, not stored"
		} else {
			p.Reason = "not leader"
		}
	default:
		p.Reason = "neither stored nor running"
	}
	return p, nil
}

// execute carries out a plan against the downstream and records the outcome
// in the observed state. It returns the downstream's details for a commit.
func (c *reconciler) execute(ctx context.Context, p Plan) (string, error) {
	switch p.Action {
	case ActionCommit:
		// Commits run under the term's context: losing leadership cancels them.
		cctx, cancel := mergeCancel(ctx, p.ctx)
		defer cancel()
		details, err := c.down.CommitGroup(cctx, p.Spec, false)
		if err != nil {
			if p.ctx.Err() != nil {
				return "", Terminal(fmt.Errorf("commit %q abandoned: leadership lost: %w", p.ID, err))
			}
			return "", fmt.Errorf("commit %q: %w", p.ID, err)
		}
		c.state.observe(p.Spec)
		return details, nil
	case ActionFree:
		err := c.down.FreeGroup(ctx, p.ID)
		if err != nil && !notWatched(err) {
			return "", fmt.Errorf("free %q: %w", p.ID, err)
		}
		c.state.unobserve(p.ID)
		return "", nil
	default:
		return "", nil
	}
}

// reconcile is one level-triggered pass over one group: re-read both sides
// from state, decide, act.
func (c *reconciler) reconcile(ctx context.Context, id plugin.ID) error {
	unlock := c.locks.lock(id)
	defer unlock()
	// Leadership-loss handling waits for in-flight commits (see observe).
	c.ops.RLock()
	defer c.ops.RUnlock()

	p, err := plan(id, c.state.snapshot(id))
	log := logr.FromContextOrDiscard(ctx).WithValues("group", id, "action", string(p.Action))
	if err != nil {
		return err
	}
	if p.Action == ActionNoop || p.Action == ActionWait {
		log.V(3).Info("reconciled", "reason", p.Reason)
		return nil
	}
	details, err := c.execute(ctx, p)
	if err != nil {
		return err
	}
	log.V(1).Info("reconciled", "reason", p.Reason, "details", details)
	return nil
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

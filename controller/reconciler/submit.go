package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// change is one user request for one group, as the front hands it to the
// reconciler: the one way in for every write (one actor, one submit path).
type change struct {
	id plugin.ID
	op op
	// entry is the group to store (commit only).
	entry sources.Entry
	// validated delivers the downstream's verdict on the spec (commit
	// only: the pretend commit, still running while the write is prepared).
	validated <-chan error
}

// receipt is what submit found in the store and what came of the change.
type receipt struct {
	// wasStored: the group was in Groups before the change.
	wasStored bool
	// pending: a destroy of the group was pending: before a commit (which
	// superseded it), after a destroy (recorded), before a free (which
	// leaves it pending and records no intent).
	pending bool
	out     outcome
}

// submit stores c durably and, in the same critical section (before any
// sync can read the store again), records the user's intent for the group:
// a destroy moves the group's entry from Groups to Destroying in that one
// save, so no plan can see the group "running, not stored" in between. It
// then enqueues the group and waits, at most wait, for the reconciler's
// answer. The error is the store write's (nothing changed); the outcome is
// the reconciler's.
func (r *Reconciler) submit(ctx context.Context, c change, wait time.Duration) (receipt, error) {
	var rc receipt
	var ch <-chan outcome
	since := r.obs.mark()
	mutate := func(cfg *sources.Config) {
		e, stored := cfg.Groups[c.id]
		_, pending := cfg.Destroying[c.id]
		rc.wasStored, rc.pending = stored, pending
		switch c.op {
		case opCommit:
			cfg.Groups[c.id] = c.entry
			delete(cfg.Destroying, c.id)
		case opFree:
			delete(cfg.Groups, c.id)
		case opDestroy:
			if stored {
				if cfg.Destroying == nil {
					cfg.Destroying = map[plugin.ID]sources.Entry{}
				}
				cfg.Destroying[c.id] = e
				delete(cfg.Groups, c.id)
				rc.pending = true
			}
		}
	}
	onSaved := func() {
		if c.op == opFree && rc.pending {
			return // the destroy stays pending; a free does not cancel it
		}
		ch = r.intents.record(c.id, c.op, rc.wasStored || (c.op == opDestroy && rc.pending), since)
	}
	if err := r.w.write(c.id, mutate, c.validated, onSaved); err != nil {
		return rc, err
	}
	if ch == nil {
		return rc, nil
	}
	r.queue.AddFirst(c.id) // a waiting user goes before a resync's groups
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case rc.out = <-ch:
	case <-ctx.Done():
		rc.out = outcome{err: fmt.Errorf("%w: the caller gave up waiting (%w)", submit.ErrNotApplied, ctx.Err())}
	case <-timer.C:
		rc.out = outcome{err: fmt.Errorf("%w: not done within %s, still being applied", submit.ErrNotApplied, wait)}
	}
	return rc, nil
}

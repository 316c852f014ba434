package reconciler

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/sources"
)

// destroy carries out a destroy plan: downstream first, then (for a
// destroy recorded in the store) the store record, through the writer and
// so through the gate. A group plugin destroys only what it watches, and
// "not being watched" is no proof that the instances are gone (a new
// leader's downstream never watched the group): the last stored spec is
// committed first, so the plugin watches the group, then destroyed.
func (r *Reconciler) destroy(ctx context.Context, log logr.Logger, p Plan, lost func(error) error) outcome {
	if !p.carried {
		err := r.down.DestroyGroup(ctx, p.ID)
		if submit.NotWatched(err) && p.pending && p.Spec.ID != "" {
			log.Info("group not watched downstream: committing its last stored spec first, then destroying it")
			r.obs.committing(p.ID)
			details, cerr := r.down.CommitGroup(ctx, p.Spec, false)
			if cerr != nil {
				return outcome{err: lost(cerr)}
			}
			r.obs.committed(p.Spec, details)
			log.Info("committed group", "details", details)
			err = r.down.DestroyGroup(ctx, p.ID)
		}
		switch {
		case err == nil:
			log.Info("destroyed group")
		case submit.NotWatched(err) && p.pending:
			// Its stored spec does not decode, so it cannot be watched
			// first: the plugin's answer is all there is.
			log.Info("group not watched downstream and its stored spec does not decode: destroy taken as done", "answer", err.Error())
		case submit.NotWatched(err):
			log.V(1).Info("group not running downstream", "answer", err.Error())
			if p.hasInt && !p.intent.wasStored {
				r.obs.removed(p.ID)
				return outcome{err: Terminal(err)} // neither stored nor running: the plugin's own answer
			}
		default:
			return outcome{err: lost(err)}
		}
		r.obs.destroyed(p.ID)
	}
	if !p.pending {
		return outcome{}
	}
	err := r.w.write(p.ID, func(cfg *sources.Config) { delete(cfg.Destroying, p.ID) }, nil, nil)
	if err != nil {
		return outcome{err: lost(fmt.Errorf("destroyed downstream; removing the pending destroy from the store failed, will retry: %w", err))}
	}
	log.Info("pending destroy carried out and removed from the store")
	return outcome{}
}

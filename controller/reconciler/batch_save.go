package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/sources"
)

// save stores one batch, on a fresh leadership confirmation and under the
// term's context: a deposed or frozen leader never writes the store. It
// returns the members it tried to store (the others were rejected by the
// downstream) and the error of that save.
//
// No mutex is held across the leadership check or the wait for the
// members' verdicts: storeMu is taken after the check, and with a
// two-phase store it is let go while the verdicts arrive (the prepared save
// is committed only if the desired cache still holds the version it was
// built on; only this writer saves, so a sync in between re-reads the same
// version).
func (w *writer) save(reqs []*writeReq) ([]*writeReq, error) {
	r := w.r
	t, err := r.lease.ConfirmWrite(context.Background())
	if err != nil {
		return verdicts(reqs), err
	}
	defer t.Release()
	cs, savesChanges := r.store.(sources.ChangeSaver)
	if st, ok := r.store.(sources.Stager); ok && pendingVerdicts(reqs) && !savesChanges {
		live, done, err := w.twoPhase(t, st, reqs)
		if done {
			return live, err
		}
		if reqs = live; len(reqs) == 0 {
			return nil, nil
		}
	}
	reqs = verdicts(reqs)
	if len(reqs) == 0 {
		return nil, nil
	}
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	base, v, cached := r.desired.base()
	if cached && !savesChanges && unchanged(base, reqs) {
		// Only removals of groups that are not stored (unknown IDs): if
		// the store still holds what the cache holds, there is nothing to
		// write. If it changed, decide again on what it holds now.
		cfg, nv, err := r.store.Load(t.Context())
		if err == nil && nv == v {
			w.saved(reqs, len(base.Groups))
			return reqs, nil
		}
		if err == nil {
			r.desired.install(cfg, nv, t.ID())
			if base, v, cached = r.desired.base(); cached && unchanged(base, reqs) {
				w.saved(reqs, len(base.Groups))
				return reqs, nil
			}
		}
	}
	if cached && savesChanges {
		// One key per group (etcd): save just the changed groups; the
		// whole config is never copied, so a commit's cost does not grow
		// with the stored groups.
		done, err := w.saveDelta(t, cs, base, v, reqs)
		if done {
			return reqs, err
		}
		cached = false // someone else wrote the store: read it again below
	}
	if cached {
		next := build(base, reqs)
		start := time.Now()
		nv, err := r.store.Save(t.Context(), next, v)
		if done, err := w.afterSave(t, reqs, start, err, func() int {
			r.desired.apply(next, nv, idsOf(reqs), t.ID())
			return len(next.Groups)
		}); done {
			return reqs, err
		}
		// Someone else wrote the store: read it again below.
	}
	cfg, nv, err := sources.Update(t.Context(), r.store, func(c *sources.Config) error {
		for _, req := range reqs {
			req.mutate(c)
		}
		return nil
	})
	if err != nil {
		return reqs, writeErr(err, t)
	}
	r.desired.install(cfg, nv, t.ID())
	w.saved(reqs, len(cfg.Groups))
	return reqs, nil
}

// saved runs after a batch is stored, with storeMu held: each member's
// onSaved (the front's intent is recorded together with the store change,
// before any sync can read the store again) and the metrics.
func (w *writer) saved(reqs []*writeReq, groups int) {
	for _, req := range reqs {
		if req.onSaved != nil {
			req.onSaved()
		}
	}
	w.r.metrics.SetStoredGroups(groups)
}

// twoPhase prepares the batch while the members' pretend commits run and
// commits it if every member was accepted and the store is unchanged. done
// is false when the batch must be saved the plain way (with the members
// returned: a rejected one is dropped).
func (w *writer) twoPhase(t *lease.Term, st sources.Stager, reqs []*writeReq) (live []*writeReq, done bool, err error) {
	r := w.r
	r.storeMu.Lock()
	base, v, cached := r.desired.base()
	if !cached {
		r.storeMu.Unlock()
		return reqs, false, nil
	}
	// A store that can be told the changed groups is handed those alone
	// (delta.go): neither a copy of the whole config nor its walk.
	cs, changes := st.(sources.ChangeStager)
	var next sources.Config
	ids := idsOf(reqs)
	start := time.Now()
	var p sources.Pending
	var perr error
	if changes {
		next = deltaOf(base, reqs, ids)
		p, perr = cs.PrepareChanged(t.Context(), next, v, ids)
	} else {
		next = build(base, reqs)
		p, perr = st.Prepare(t.Context(), next, v)
	}
	r.storeMu.Unlock()
	live = verdicts(reqs) // no lock held while the downstream answers
	if perr != nil {
		if errors.Is(perr, sources.ErrConflict) {
			return live, false, nil
		}
		r.metrics.StoreSaved(time.Since(start), perr)
		return live, true, storeErr(perr, t)
	}
	defer p.Abort()
	if len(live) != len(reqs) {
		return live, false, nil // prepared with a rejected member
	}
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	if _, now, ok := r.desired.base(); !ok || now != v {
		return live, false, nil
	}
	nv, err := p.Commit(t.Context())
	done, err = w.afterSave(t, live, start, err, func() int {
		if changes {
			r.desired.applyDelta(next, nv, ids, t.ID())
			n, _, _ := r.desired.count()
			return n
		}
		r.desired.apply(next, nv, ids, t.ID())
		return len(next.Groups)
	})
	return live, done, err
}

// failed handles a failed save: done is false for a conflict (read the
// store again and retry).
func (w *writer) failed(err error, t *lease.Term) (done bool, out error) {
	r := w.r
	if errors.Is(err, context.DeadlineExceeded) {
		// The write's outcome is unknown: so is the store, until re-read.
		r.desired.fail(err)
		r.triggerSync()
	}
	if errors.Is(err, sources.ErrFenced) {
		r.lease.Recheck() // the store says another leads: look now
	}
	if errors.Is(err, sources.ErrConflict) {
		return false, nil
	}
	return true, writeErr(err, t)
}

// saveDelta saves the members' changes through a sources.ChangeSaver,
// handing it only the changed groups (it looks at no other). done is false
// when the store changed since v: the caller reads it again. storeMu is held.
func (w *writer) saveDelta(t *lease.Term, cs sources.ChangeSaver, base sources.Config, v sources.Version, reqs []*writeReq) (done bool, err error) {
	r := w.r
	ids := idsOf(reqs)
	delta := deltaOf(base, reqs, ids)
	start := time.Now()
	nv, err := cs.SaveChanged(t.Context(), delta, v, ids)
	return w.afterSave(t, reqs, start, err, func() int {
		r.desired.applyDelta(delta, nv, ids, t.ID())
		n, _, _ := r.desired.count()
		return n
	})
}

// afterSave takes in the outcome of one save of reqs begun at start, whichever
// way it was made (a whole config, a prepared one, the changed groups):
// the metric; on success the desired cache (record, which returns the
// groups now stored) and each member's onSaved; on failure done is false
// for a conflict (read the store again and retry).
func (w *writer) afterSave(t *lease.Term, reqs []*writeReq, start time.Time, err error, record func() int) (done bool, out error) {
	w.r.metrics.StoreSaved(time.Since(start), err)
	if err != nil {
		return w.failed(err, t)
	}
	w.saved(reqs, record())
	return true, nil
}

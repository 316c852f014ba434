package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// writeReq is one front write waiting to be stored: a change to one group,
// whose entry was encoded and checked before it joined a batch. validated,
// when not nil, delivers the downstream's verdict on the spec (the pretend
// commit, still running while the write is prepared); a rejected spec is
// never stored.
type writeReq struct {
	id        plugin.ID
	mutate    func(*sources.Config) // idempotent: may run more than once
	validated <-chan error
	verdict   error  // set once validated delivered
	onSaved   func() // run once stored, with storeMu held; may be nil
	done      chan error
}

// rejectedError is a write the downstream refused in its pretend commit.
type rejectedError struct{ err error }

func (e *rejectedError) Error() string { return e.err.Error() }
func (e *rejectedError) Unwrap() error { return e.err }

// writer stores front writes. Concurrent writes are batched into one
// durable save (one fsync), a group commit: whoever finds no save running
// becomes the flusher and saves everything queued; writes that queue up
// meanwhile are saved by a next flush; everyone waits for their own result.
// Saves go against the desired cache (no reload per write) and fall back to
// a fresh read-modify-write when someone else changed the store.
//
// With a two-phase store (sources.Stager) the slow part of the save (encode,
// write and fsync a temp file) runs while the members' pretend commits are
// still in flight; only the rename waits for their verdicts.
//
// A batch fails only for reasons common to all its members (the disk, the
// lease): a member the downstream rejected is dropped from the batch, and
// when a save is refused for its size each member is saved on its own, so
// only the one that does not fit fails.
type writer struct {
	r *reconciler

	mu       sync.Mutex
	pending  []*writeReq
	flushing bool
}

// write queues one change and waits until it is durable or has failed.
// onSaved, if not nil, runs once the change is stored, before storeMu is
// let go.
func (w *writer) write(id plugin.ID, mutate func(*sources.Config), validated <-chan error, onSaved func()) error {
	req := &writeReq{id: id, mutate: mutate, validated: validated, onSaved: onSaved, done: make(chan error, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, req)
	flusher := !w.flushing
	w.flushing = true
	w.mu.Unlock()
	if flusher {
		w.flush()
	}
	// Not abandoned on the caller's ctx: the write may already be durable,
	// and the caller must learn whether it is. Store calls have deadlines.
	return <-req.done
}

// flush saves everything queued as one batch. If more writes queued up
// meanwhile, a new goroutine saves them, so that the caller that happened
// to flush gets its answer now and is never held up by other callers' writes.
func (w *writer) flush() {
	w.mu.Lock()
	reqs := w.pending
	w.pending = nil
	w.mu.Unlock()
	live, err := w.save(reqs)
	if errors.Is(err, sources.ErrTooLarge) && len(live) > 1 {
		for _, req := range live {
			_, req.verdict = w.save([]*writeReq{req})
		}
	} else {
		for _, req := range live {
			req.verdict = err
		}
	}
	for _, req := range reqs {
		req.done <- req.verdict
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		w.flushing = false
		return
	}
	go w.flush()
}

// verdicts waits for the downstream's verdict on every member and returns
// those it accepted; the rejected ones keep their error in verdict.
func verdicts(reqs []*writeReq) []*writeReq {
	live := reqs[:0:0]
	for _, req := range reqs {
		if req.validated != nil {
			if err := <-req.validated; err != nil {
				req.verdict = &rejectedError{err}
			}
			req.validated = nil
		}
		if req.verdict == nil {
			live = append(live, req)
		}
	}
	return live
}

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
	t, err := r.lease.confirmWrite(context.Background())
	if err != nil {
		return verdicts(reqs), err
	}
	defer t.release()
	if st, ok := r.stager(); ok && pendingVerdicts(reqs) && !r.savesChanges() {
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
	if cached && !r.savesChanges() && unchanged(base, reqs) {
		// Only removals of groups that are not stored (unknown IDs): if
		// the store still holds what the cache holds, there is nothing to
		// write. If it changed, decide again on what it holds now.
		cfg, nv, err := r.store.Load(t.ctx)
		if err == nil && nv == v {
			w.saved(reqs, len(base.Groups))
			return reqs, nil
		}
		if err == nil {
			r.desired.install(cfg, nv, t.id)
			if base, v, cached = r.desired.base(); cached && unchanged(base, reqs) {
				w.saved(reqs, len(base.Groups))
				return reqs, nil
			}
		}
	}
	if cached && r.savesChanges() {
		// One key per group (etcd): save just the changed groups; the
		// whole config is never copied, so a commit's cost does not grow
		// with the stored groups.
		done, err := w.saveDelta(t, base, v, reqs)
		if done {
			return reqs, err
		}
		cached = false // someone else wrote the store: read it again below
	}
	ids := idsOf(reqs)
	if cached {
		next := build(base, reqs)
		start := time.Now()
		nv, err := r.store.Save(t.ctx, next, v)
		r.metrics.StoreSaved(time.Since(start), err)
		if err == nil {
			r.desired.apply(next, nv, ids, t.id)
			w.saved(reqs, len(next.Groups))
			return reqs, nil
		}
		if done, ferr := w.failed(err, t); done {
			return reqs, ferr
		}
		// Someone else wrote the store: read it again below.
	}
	cfg, nv, err := sources.Update(t.ctx, r.store, func(c *sources.Config) error {
		for _, req := range reqs {
			req.mutate(c)
		}
		return nil
	})
	if err != nil {
		return reqs, writeErr(err, t)
	}
	r.desired.install(cfg, nv, t.id)
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
func (w *writer) twoPhase(t *term, st sources.Stager, reqs []*writeReq) (live []*writeReq, done bool, err error) {
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
		p, perr = cs.PrepareChanged(t.ctx, next, v, ids)
	} else {
		next = build(base, reqs)
		p, perr = st.Prepare(t.ctx, next, v)
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
	nv, err := p.Commit(t.ctx)
	r.metrics.StoreSaved(time.Since(start), err)
	if err != nil {
		if done, ferr := w.failed(err, t); done {
			return live, true, ferr
		}
		return live, false, nil
	}
	if changes {
		r.desired.applyDelta(next, nv, ids, t.id)
		n, _, _ := r.desired.count()
		w.saved(live, n)
		return live, true, nil
	}
	r.desired.apply(next, nv, ids, t.id)
	w.saved(live, len(next.Groups))
	return live, true, nil
}

// failed handles a failed save: done is false for a conflict (read the
// store again and retry).
func (w *writer) failed(err error, t *term) (done bool, out error) {
	r := w.r
	if errors.Is(err, context.DeadlineExceeded) {
		// The write's outcome is unknown: so is the store, until re-read.
		r.desired.fail(err)
		r.triggerSync()
	}
	if errors.Is(err, sources.ErrFenced) {
		r.lease.start() // the store says another leads: look now
	}
	if errors.Is(err, sources.ErrConflict) {
		return false, nil
	}
	return true, writeErr(err, t)
}

// build applies the members' changes to a shallow copy of base (entries
// are never changed in place).
func build(base sources.Config, reqs []*writeReq) sources.Config {
	next := sources.Config{Groups: maps.Clone(base.Groups), Destroying: maps.Clone(base.Destroying)}
	if next.Groups == nil {
		next.Groups = map[plugin.ID]sources.Entry{}
	}
	for _, req := range reqs {
		req.mutate(&next)
	}
	return next
}

// saveDelta saves the members' changes through a sources.ChangeSaver,
// handing it only the changed groups (it looks at no other). done is false
// when the store changed since v: the caller reads it again. storeMu is held.
func (w *writer) saveDelta(t *term, base sources.Config, v sources.Version, reqs []*writeReq) (done bool, err error) {
	r := w.r
	ids := idsOf(reqs)
	delta := deltaOf(base, reqs, ids)
	start := time.Now()
	nv, err := r.store.(*boundedStore).SaveChanged(t.ctx, delta, v, ids)
	r.metrics.StoreSaved(time.Since(start), err)
	if err == nil {
		r.desired.applyDelta(delta, nv, ids, t.id)
		n, _, _ := r.desired.count()
		w.saved(reqs, n)
		return true, nil
	}
	if done, ferr := w.failed(err, t); done {
		return true, ferr
	}
	return false, nil
}

// unchanged reports whether no member changes base: each only removes a
// group base holds neither stored nor as a pending destroy. Members' changes are tried on a config of
// their own group alone, so the check costs the members, not the groups
// stored.
func unchanged(base sources.Config, reqs []*writeReq) bool {
	for _, req := range reqs {
		if req.validated != nil {
			return false // a commit
		}
		if _, ok := base.Groups[req.id]; ok {
			return false
		}
		if _, ok := base.Destroying[req.id]; ok {
			return false
		}
		probe := sources.Config{Groups: map[plugin.ID]sources.Entry{}, Destroying: map[plugin.ID]sources.Entry{}}
		req.mutate(&probe)
		if len(probe.Groups) != 0 || len(probe.Destroying) != 0 {
			return false
		}
	}
	return true
}

func pendingVerdicts(reqs []*writeReq) bool {
	for _, req := range reqs {
		if req.validated != nil {
			return true
		}
	}
	return false
}

func idsOf(reqs []*writeReq) []plugin.ID {
	ids := make([]plugin.ID, len(reqs))
	for i, req := range reqs {
		ids[i] = req.id
	}
	return ids
}

// storeErr marks an error from the store for the user; a write cut short
// by the end of the term, or fenced by the store, is not-a-leader.
func storeErr(err error, t *term) error {
	var se *storeError
	if errors.As(err, &se) {
		return err
	}
	if t.ctx.Err() != nil || errors.Is(err, sources.ErrFenced) {
		return ErrNotLeader
	}
	return &storeError{err}
}

// writeErr is storeErr for a write that may have reached the store (a
// Save, a Commit): cut short by the end of the term, its outcome is
// unknown, and a bare not-a-leader would say that nothing was done (clients
// and forwarding followers resend on it). Fenced, it was refused.
func writeErr(err error, t *term) error {
	if t.ctx.Err() != nil && !errors.Is(err, sources.ErrFenced) && !errors.As(err, new(*storeError)) {
		return fmt.Errorf("store write cut short by the end of leadership, its outcome is unknown: %w (%w)", err, ErrNotLeader)
	}
	return storeErr(err, t)
}

// storeError is a store failure, worded for the user.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

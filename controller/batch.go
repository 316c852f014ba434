package controller

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// writeReq is one front write waiting to be stored: a change to one group,
// whose entry was encoded and checked before it joined a batch.
type writeReq struct {
	id     plugin.ID
	mutate func(*sources.Config) // idempotent: may run more than once
	done   chan error
}

// writer stores front writes. Concurrent writes are batched into one
// durable save (one fsync), a group commit: whoever finds no save running
// becomes the flusher and saves everything queued; writes that queue up
// meanwhile are saved by a next flush; everyone waits for their own result.
// Saves go against the desired cache (no reload per write) and fall back to
// a fresh read-modify-write when someone else changed the store.
//
// A batch fails only for reasons common to all its members (the disk, the
// lease): when a save is refused for its size, each member is saved on its
// own, so only the one that does not fit fails.
type writer struct {
	r *reconciler

	mu       sync.Mutex
	pending  []*writeReq
	flushing bool
}

// write queues one change and waits until it is durable or has failed.
func (w *writer) write(id plugin.ID, mutate func(*sources.Config)) error {
	req := &writeReq{id: id, mutate: mutate, done: make(chan error, 1)}
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
	err := w.save(reqs)
	if errors.Is(err, sources.ErrTooLarge) && len(reqs) > 1 {
		for _, req := range reqs {
			req.done <- w.save([]*writeReq{req})
		}
	} else {
		for _, req := range reqs {
			req.done <- err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		w.flushing = false
		return
	}
	go w.flush()
}

// save stores one batch, on a fresh leadership confirmation and under the
// term's context: a deposed or frozen leader never writes the store.
func (w *writer) save(reqs []*writeReq) error {
	r := w.r
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	t, err := r.lease.confirm(context.Background())
	if err != nil {
		return err
	}
	defer t.release()
	apply := func(c *sources.Config) {
		if c.Groups == nil {
			c.Groups = map[plugin.ID]sources.Entry{}
		}
		for _, req := range reqs {
			req.mutate(c)
		}
	}
	ids := make([]plugin.ID, len(reqs))
	for i, req := range reqs {
		ids[i] = req.id
	}
	if base, v, ok := r.desired.base(); ok {
		// Entries are never changed in place, so a shallow copy will do.
		next := sources.Config{Groups: maps.Clone(base.Groups)}
		apply(&next)
		start := time.Now()
		nv, err := r.store.Save(t.ctx, next, v)
		r.metrics.StoreSaved(time.Since(start), err)
		if err == nil {
			r.desired.apply(next, nv, ids)
			r.metrics.SetStoredGroups(len(next.Groups))
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// The write's outcome is unknown: so is the store, until re-read.
			r.desired.fail(err)
			r.triggerSync()
		}
		if errors.Is(err, sources.ErrFenced) {
			r.lease.start() // the store says another leads: look now
		}
		if !errors.Is(err, sources.ErrConflict) {
			return storeErr(err, t)
		}
		// Someone else wrote the store: read it again below.
	}
	cfg, nv, err := sources.Update(t.ctx, r.store, func(c *sources.Config) error { apply(c); return nil })
	if err != nil {
		return storeErr(err, t)
	}
	r.desired.install(cfg, nv)
	r.metrics.SetStoredGroups(len(cfg.Groups))
	return nil
}

// storeErr marks an error from the store for the user; a write cut short
// by the end of the term is not-a-leader.
func storeErr(err error, t *term) error {
	if t.ctx.Err() != nil || errors.Is(err, sources.ErrFenced) {
		return ErrNotLeader
	}
	return &storeError{err}
}

// storeError is a store failure, worded for the user.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

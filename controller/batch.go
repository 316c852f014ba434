package controller

import (
	"context"
	"errors"
	"maps"
	"sync"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// writeReq is one front write waiting to be stored: a change to one group.
type writeReq struct {
	id     plugin.ID
	mutate func(*sources.Config) // idempotent: may run more than once
	done   chan error
}

// writer stores front writes. Concurrent writes are batched into one
// durable save (one fsync) — group commit: whoever finds no save running
// becomes the flusher and saves everything queued; writes that queue up
// meanwhile are saved by a next flush; everyone waits for their own result. Saves go against
// the config this replica last loaded or saved (no reload per write), and
// fall back to a fresh read-modify-write when someone else changed the store.
type writer struct {
	r *reconciler

	mu       sync.Mutex
	pending  []*writeReq
	flushing bool

	// The last config this replica loaded or saved, guarded by r.storeMu.
	cfg     sources.Config
	version sources.Version
	cached  bool
}

// write queues one change and waits until it is durable or has failed.
func (w *writer) write(ctx context.Context, id plugin.ID, mutate func(*sources.Config)) error {
	req := &writeReq{id: id, mutate: mutate, done: make(chan error, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, req)
	flusher := !w.flushing
	w.flushing = true
	w.mu.Unlock()
	if flusher {
		w.flush()
	}
	// Not abandoned on ctx: the write may already be durable, and the
	// caller must learn whether it is.
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
	for _, req := range reqs {
		req.done <- err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		w.flushing = false
		return
	}
	go w.flush()
}

// save stores one batch under the leadership term's context.
func (w *writer) save(reqs []*writeReq) error {
	r := w.r
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	term, leader := r.state.currentTerm()
	_, lctx := r.state.isLeader()
	if !leader || lctx.Err() != nil {
		return ErrNotLeader
	}
	apply := func(c *sources.Config) {
		if c.Groups == nil {
			c.Groups = map[plugin.ID]sources.Entry{}
		}
		for _, req := range reqs {
			req.mutate(c)
		}
	}
	if w.cached {
		// Entries are never changed in place, so a shallow copy will do.
		next := sources.Config{Groups: maps.Clone(w.cfg.Groups)}
		apply(&next)
		v, err := r.store.Save(lctx, next, w.version)
		if err == nil {
			w.remember(next, v)
			ids := make([]plugin.ID, len(reqs))
			for i, req := range reqs {
				ids[i] = req.id
			}
			r.state.updateDesired(term, next, v, ids)
			return nil
		}
		if !errors.Is(err, sources.ErrConflict) {
			return storeErr(err)
		}
		// Someone else wrote the store: read it again below.
	}
	cfg, v, err := sources.Update(lctx, r.store, func(c *sources.Config) error { apply(c); return nil })
	if err != nil {
		w.cached = false
		return storeErr(err)
	}
	w.remember(cfg, v)
	r.state.setDesired(term, cfg, v)
	return nil
}

// remember records what the store now holds; callers hold r.storeMu.
func (w *writer) remember(cfg sources.Config, v sources.Version) {
	w.cfg, w.version, w.cached = cfg, v, true
}

// forget drops the cached config (the store could not be read); callers
// hold r.storeMu.
func (w *writer) forget() { w.cached = false }

package reconciler

import (
	"errors"
	"maps"
	"sync"

	"github.com/infrakit-manager/manager/controller/submit"
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
	r *Reconciler

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
				req.verdict = &submit.RejectedError{Err: err}
			}
			req.validated = nil
		}
		if req.verdict == nil {
			live = append(live, req)
		}
	}
	return live
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

package reconciler

import (
	"context"
	"errors"

	"github.com/infrakit-manager/manager/sources"
)

// writeChecker is a store that can tell whether it can be written without
// changing what it stores (file.Store.CheckWrite).
type writeChecker interface {
	CheckWrite(ctx context.Context) error
}

// noteWrite records the outcome of one write for health: a failure of the
// store itself (no space, a read-only file system, a rename refused, a
// store that vanished or did not answer in time) is kept until a write
// succeeds. Outcomes that say nothing about the store's health change
// nothing: a conflict or a fenced write (someone else wrote), a config too
// large (the caller's input), a cancelled call (a term ended). Each change
// is logged once: the failure at error level, the recovery at info.
func (b *boundedStore) noteWrite(err error) {
	switch {
	case errors.Is(err, sources.ErrConflict), errors.Is(err, sources.ErrFenced),
		errors.Is(err, sources.ErrTooLarge), errors.Is(err, context.Canceled):
		return
	}
	b.mu.Lock()
	prev := b.writeErr
	b.writeErr = err
	b.mu.Unlock()
	switch {
	case err != nil && (prev == nil || prev.Error() != err.Error()):
		b.log.Error(err, "store cannot be written")
	case err == nil && prev != nil:
		b.log.Info("store can be written again")
	}
}

// writeFailure is the last write's failure, nil if it succeeded.
func (b *boundedStore) writeFailure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeErr
}

// checkWrite runs the wrapped store's CheckWrite in the write slot with
// the store's deadline and records the outcome as a write's. A conflict
// means another writer wrote: the store can be written. A busy slot skips
// the check (the write that holds it will record its own outcome).
func (b *boundedStore) checkWrite(ctx context.Context) {
	wc, ok := b.s.(writeChecker)
	if !ok {
		return
	}
	release, err := b.acquireWrite()
	if err != nil {
		return
	}
	_, _ = within(ctx, b.timeout, "store write check", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, wc.CheckWrite(ctx)
	}, func(_ struct{}, err error) {
		if errors.Is(err, sources.ErrConflict) {
			err = nil
		}
		if !errors.Is(err, context.Canceled) {
			b.noteWrite(err)
		}
		release()
	})
}

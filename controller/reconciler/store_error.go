package reconciler

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/sources"
)

// storeErr marks an error from the store for the user; a write cut short
// by the end of the term, or fenced by the store, is not-a-leader.
func storeErr(err error, t *lease.Term) error {
	var se *storeError
	if errors.As(err, &se) {
		return err
	}
	if t.Context().Err() != nil || errors.Is(err, sources.ErrFenced) {
		return lease.ErrNotLeader
	}
	return &storeError{err}
}

// writeErr is storeErr for a write that may have reached the store (a
// Save, a Commit): cut short by the end of the term, its outcome is
// unknown, and a bare not-a-leader would say that nothing was done (clients
// and forwarding followers resend on it). Fenced, it was refused.
func writeErr(err error, t *lease.Term) error {
	if t.Context().Err() != nil && !errors.Is(err, sources.ErrFenced) && !errors.As(err, new(*storeError)) {
		return fmt.Errorf("store write cut short by the end of leadership, its outcome is unknown: %w (%w)", err, lease.ErrNotLeader)
	}
	return storeErr(err, t)
}

// storeError is a store failure, worded for the user.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

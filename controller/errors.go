package controller

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrNotLeader is answered to every write on a replica that does not
	// lead. Its text is exactly the original's, "not-a-leader": clients
	// compare it. It is the lease's (lease.ErrNotLeader).
	ErrNotLeader = lease.ErrNotLeader
	// ErrInvalidSpec: the spec failed local validation (blank ID, properties
	// that are not JSON). Nothing was stored. It is the front's.
	ErrInvalidSpec = front.ErrInvalidSpec
	// ErrNotApplied: the spec is durably stored but applying it downstream
	// failed; the reconcile loop keeps retrying (submit.ErrNotApplied).
	ErrNotApplied = submit.ErrNotApplied
	// ErrDesiredUnknown: the store could not be read, so the controller does
	// not know what should run and takes no action until it can.
	ErrDesiredUnknown = errors.New("desired state unknown")
	// ErrLeadershipUnknown: --once could not learn whether this replica
	// leads, so it acted on nothing.
	ErrLeadershipUnknown = front.ErrLeadershipUnknown
	// ErrDestroyPending: the group's destroy is recorded and not yet
	// carried out; a free does not cancel it (a commit does).
	ErrDestroyPending = front.ErrDestroyPending
	// ErrMisconfigured: another process holds a claim this replica needs
	// (a second manager with the same --name on one store, or driving the
	// same downstream): this replica refuses to act.
	ErrMisconfigured = errors.New("misconfiguration")
	// errWaiting: the plan waits because something it needs is unknown;
	// the sync loop enqueues the group again once it is known.
	errWaiting = errors.New("waiting")
	// errHandover: this replica leads, but the previous holder may still
	// act; the gate allows no downstream change until it has released or
	// its lease has certainly run out. It is a waiting error: the sync
	// loop enqueues every group again when the handover ends.
	// The gate answers lease.ErrFenced; execute turns it into this.
	errHandover = fmt.Errorf("%w: %w", errWaiting, lease.ErrFenced)
)

// terminalError marks an error that retrying cannot fix.
type terminalError struct{ err error }

func (t terminalError) Error() string { return t.err.Error() }
func (t terminalError) Unwrap() error { return t.err }

// Terminal wraps err so that the reconcile loop logs it and does not retry
// the key until something changes (a new commit or the next resync).
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return terminalError{err}
}

// IsTerminal reports whether err was wrapped by Terminal.
func IsTerminal(err error) bool {
	var t terminalError
	return errors.As(err, &t)
}

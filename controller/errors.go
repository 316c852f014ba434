package controller

import (
	"errors"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/reconciler"
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
	ErrDesiredUnknown = reconciler.ErrDesiredUnknown
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
)

// Terminal wraps err so that the reconcile loop logs it and does not retry
// the key until something changes (reconciler.Terminal).
func Terminal(err error) error { return reconciler.Terminal(err) }

// IsTerminal reports whether err was wrapped by Terminal.
func IsTerminal(err error) bool { return reconciler.IsTerminal(err) }

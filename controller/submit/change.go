package submit

import (
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Op is what a user asked the Group API to do with one group.
type Op int

// The ops.
const (
	Commit Op = iota + 1
	Free
	Destroy
)

func (o Op) String() string {
	switch o {
	case Commit:
		return "commit"
	case Free:
		return "free"
	case Destroy:
		return "destroy"
	}
	return "none"
}

// Change is one user request for one group: the one way in for every
// write (one actor, one submit path).
type Change struct {
	ID plugin.ID
	Op Op
	// Entry is the group to store (Commit only).
	Entry sources.Entry
	// Validated delivers the downstream's verdict on the spec (Commit
	// only: the pretend commit, still running while the write is
	// prepared). A rejected spec is never stored: Submit answers a
	// *RejectedError.
	Validated <-chan error
}

// Receipt is what the submit found in the store and what came of the
// change.
type Receipt struct {
	// WasStored: the group was in the store's groups before the change.
	WasStored bool
	// Pending: a destroy of the group was pending: before a commit (which
	// superseded it), after a destroy (recorded), before a free (which
	// leaves it pending and records no intent).
	Pending bool
	// Outcome is the reconciler's answer, or ErrNotApplied when it did not
	// come in time.
	Outcome Outcome
}

// Outcome is the reconciler's answer to one change.
type Outcome struct {
	Details string // the downstream's answer to a commit
	Err     error
}

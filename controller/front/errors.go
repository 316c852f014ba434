package front

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// ErrInvalidSpec: the spec failed local validation (blank ID, properties
	// that are not JSON). Nothing was stored.
	ErrInvalidSpec = errors.New("invalid group spec")
	// ErrDestroyPending: the group's destroy is recorded and not yet
	// carried out; a free does not cancel it (a commit does).
	ErrDestroyPending = errors.New("destroy pending")
	// ErrLeadershipUnknown: no answer from the leadership source yet, so
	// whether this replica leads is not known (never "no").
	ErrLeadershipUnknown = errors.New("leadership unknown")
)

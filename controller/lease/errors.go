package lease

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// ErrNotLeader: this replica does not lead on a valid confirmation. Its
	// text is exactly the original's, "not-a-leader": clients compare it.
	ErrNotLeader = errors.New("not-a-leader")
	// ErrFenced: this replica leads, but the term is fenced (Options.Fenced)
	// until Lift: the previous holder may still act, so Confirm allows no
	// downstream change yet.
	ErrFenced = errors.New("handover in progress, the previous leader may still act")
)

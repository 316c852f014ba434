package forward

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// ErrSelfLocation: the leader's published location is this manager's
	// own URL while it does not lead (a stale or misconfigured --advertise).
	// Nothing is forwarded.
	ErrSelfLocation = errors.New("leader location points to this manager itself")
	// errNoLeader: no leader location to forward to (yet); the call waits
	// for one within its deadline.
	errNoLeader = errors.New("no leader location known")
)

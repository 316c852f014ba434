package reconciler

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/controller/lease"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrDesiredUnknown: the store could not be read, so the reconciler
	// does not know what should run and takes no action until it can.
	ErrDesiredUnknown = errors.New("desired state unknown")
	// errWaiting: the plan waits because something it needs is unknown;
	// the sync loop enqueues the group again once it is known.
	errWaiting = errors.New("waiting")
	// errHandover: this replica leads, but the previous holder may still
	// act; the gate allows no downstream change until it has released or
	// its lease has certainly run out. It is a waiting error: the sync
	// loop enqueues every group again when the handover ends. The gate
	// answers lease.ErrFenced; execute turns it into this.
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

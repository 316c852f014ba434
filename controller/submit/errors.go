package submit

import (
	"errors"
	"strings"

	"github.com/infrakit-manager/manager/plugin"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrNotApplied: the change is durably stored but not yet carried out
	// downstream; the reconcile loop keeps retrying.
	ErrNotApplied = errors.New("stored, not yet applied downstream")
	// ErrSuperseded answers the waiters of a change replaced by a later
	// request for the same group.
	ErrSuperseded = errors.New("superseded by a later request for the same group")
)

// RejectedError is a commit the downstream refused in its pretend commit:
// nothing was stored. Err is the downstream's answer.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// NotWatched reports the group plugin's answer for an unknown group, which
// for a free means the goal is already reached. The protocol carries it only
// as text ("Group '<id>' is not being watched"); a transport failure never
// counts, whatever it says.
func NotWatched(err error) bool {
	return err != nil && !errors.Is(err, plugin.ErrUnreachable) &&
		strings.Contains(err.Error(), "is not being watched")
}

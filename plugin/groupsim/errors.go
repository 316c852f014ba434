package groupsim

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/plugin"
)

// Sentinel errors. Check with errors.Is; the error texts themselves are the
// original plugin's, because they travel to users over the wire.
var (
	// ErrInvalidSpec: CommitGroup was given a spec the plugin rejects
	// (blank ID, unparseable properties, bad allocation).
	ErrInvalidSpec = errors.New("invalid group spec")
	// ErrNotWatched: Free, Describe or Destroy of a group that is not managed.
	ErrNotWatched = errors.New("group is not being watched")
	// ErrSimulated: a failure injected through Faults.Fail.
	ErrSimulated = errors.New("simulated failure")
	// ErrClosed: a call waiting on injected latency or hanging was released
	// by Plugin.Close.
	ErrClosed = errors.New("plugin closed")
)

// textError carries an exact user-facing text and a sentinel kind.
type textError struct {
	text string
	kind error
}

func (e *textError) Error() string { return e.text }
func (e *textError) Unwrap() error { return e.kind }

func invalidSpec(format string, args ...any) error {
	return &textError{text: fmt.Sprintf(format, args...), kind: ErrInvalidSpec}
}

func notWatched(id plugin.ID) error {
	return &textError{text: fmt.Sprintf("Group '%s' is not being watched", id), kind: ErrNotWatched}
}

func simulatedFailure(method string) error {
	return &textError{text: "simulated failure: " + method, kind: ErrSimulated}
}

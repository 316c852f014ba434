package sources

import "context"

// Location is where the leader can be reached, as it published it.
type Location struct {
	// Holder is the leader's identity as its leadership source names it
	// (Status.Holder: the leader file's content, the etcd candidate value),
	// so that a reader can tell a location left by a former leader from the
	// current one's.
	Holder string
	// URL is the leader's advertised URL (--advertise), e.g.
	// https://127.0.0.1:24801.
	URL string
}

// LocationStore keeps the leader's location where the mode keeps its shared
// state, for followers to find (and forward to) the leader. Only the leader
// publishes; it replaces what a former leader left, and clears its own on
// stepping down. Implementations must be safe for concurrent use.
type LocationStore interface {
	// Publish durably records loc as the leader's location.
	Publish(ctx context.Context, loc Location) error
	// Load returns the published location; the zero Location when none is.
	Load(ctx context.Context) (Location, error)
	// Clear removes the published location if it names holder, and leaves
	// a successor's alone.
	Clear(ctx context.Context, holder string) error
}

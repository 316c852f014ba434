package sources

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrConflict: the stored config changed since the version the caller
	// loaded. Load again, re-apply the change, save again.
	ErrConflict = errors.New("store changed since it was loaded")
	// ErrCorrupt: the stored config exists but cannot be decoded. It is
	// never overwritten; an operator must repair or remove it.
	ErrCorrupt = errors.New("stored config cannot be decoded")
	// ErrTooLarge: the encoded config exceeds the store's size limit.
	ErrTooLarge = errors.New("config too large for the store")
	// ErrFenced: the store refused a write because this replica no longer
	// leads (etcd: the fenced compare on the leader key failed). Nothing
	// was written.
	ErrFenced = errors.New("write fenced: this replica does not lead")
	// ErrNotRegular: a path that must be a regular file is a FIFO, device,
	// socket or directory. It is never opened for reading, so it cannot hang.
	ErrNotRegular = errors.New("not a regular file")
	// ErrStoreMissing: the store does not exist where it was pointed at
	// (os: --store-dir names no directory). Nothing is created unless asked
	// (--store-create): a typo must not become an empty store.
	ErrStoreMissing = errors.New("store does not exist")
	// ErrStoreGone: a store that was there is gone (os: global.config was
	// seen and is missing, the directory is missing, or another file system
	// is mounted on it). It is unknown, never empty: nothing is changed on
	// its account until it is back (os: or reset by writing {}).
	ErrStoreGone = errors.New("store vanished")
	// ErrUnknownLeader: the leadership source answered, but not clearly
	// (an empty leader file). Unknown is never "not leader".
	ErrUnknownLeader = errors.New("leadership unknown")
)

// Entry is one stored group: the plugin that runs it and the whole group
// spec ({"ID":…,"Properties":…}) as raw JSON, exactly as the original stored it.
type Entry struct {
	Plugin     string
	Properties json.RawMessage
}

// Config is the whole stored configuration (the original's GlobalSpec).
type Config struct {
	Groups map[plugin.ID]Entry
	// Destroying holds the last stored entry of each group whose destroy
	// was accepted and not yet carried out downstream (a Kubernetes
	// finalizer): the group is no longer in Groups, and whichever manager
	// leads destroys it, then removes it from here. A later commit of the
	// same ID removes it from here too (the commit supersedes the destroy).
	// Nil or empty: no destroy pending. The file and label formats write it
	// as a top-level field after "Groups", only when it is not empty, so
	// the original manager (which ignores fields it does not know) still
	// reads them.
	Destroying map[plugin.ID]Entry
}

// Version identifies one stored state of a Config. It is opaque; the empty
// Version means "nothing stored yet".
type Version string

// Store loads and saves the Config. Implementations must be safe for
// concurrent use, and Save must be durable when it returns nil.
type Store interface {
	// Load returns the current config and its version. A store that holds
	// nothing yet returns an empty Config and the empty Version, not an error.
	Load(ctx context.Context) (Config, Version, error)
	// Save replaces the config if the stored version still equals expected,
	// and returns the new version. Otherwise it returns ErrConflict and
	// changes nothing.
	Save(ctx context.Context, cfg Config, expected Version) (Version, error)
}

// Status is what one leadership check found.
type Status struct {
	// Leader: this replica leads.
	Leader bool
	// Holder names the replica that leads, when the source knows it ("" if
	// not): the leader file's content, the etcd candidate value.
	Holder string
	// Expires, when not zero, is the instant after which this confirmation
	// must not be acted on, by the source's own rules (etcd: the last
	// keep-alive answer plus the TTL minus a margin). It is read on the
	// monotonic clock (a time.Now() value). The controller applies the
	// earlier of this and its own lease.
	Expires time.Time
	// Reason, when not empty, says why this replica does not lead when no
	// other replica is known to (etcd: "lease expired at the server",
	// "renewal timed out", "quorum lost", "shutting down"). The controller
	// logs it as the reason of a step-down instead of "another replica leads".
	Reason string
}

// Leadership tells whether this replica leads. It has three answers:
// leader, not leader (Status), or unknown (an error). The controller owns
// what unknown means (it keeps the current role for at most its lease) and
// how often to ask; a source only answers and says when to ask again.
type Leadership interface {
	// Check looks at the source once. An error means the status is unknown
	// (unreadable, unreachable, too slow): never "not leader". It must honour
	// ctx's deadline; the controller abandons a check that does not.
	Check(ctx context.Context) (Status, error)
	// Watch blocks until ctx is done, then returns nil. It calls poke
	// whenever leadership may have changed (a file event, a node event, a
	// lost session) so that the controller checks at once instead of at its
	// next renewal. Pokes may be spurious and are never concurrent; poke
	// must not block.
	Watch(ctx context.Context, poke func()) error
}

// Stager is implemented by a Store that can split a Save in two, so that
// the slow, durable part runs while the caller still waits for something
// else (the downstream's pretend commit) and only a short last step
// remains once the caller knows the config may be stored. Callers find it
// by type assertion on a Store; a Store without it is used with Save.
type Stager interface {
	// Prepare does all of a Save that nothing can see: it encodes cfg and
	// makes it durable on the side (the file store writes and fsyncs a temp
	// file; the swarm store only encodes). It may fail early with the
	// errors of Save (ErrConflict if the stored version already differs
	// from expected, ErrCorrupt, ErrTooLarge), having changed nothing. The
	// caller must Commit or Abort the Pending it returns.
	Prepare(ctx context.Context, cfg Config, expected Version) (Pending, error)
}

// ChangeSaver is implemented by a Store whose save can be told which
// groups changed, so that a save costs the changed groups rather than the
// stored ones (the etcd store otherwise compares every group of cfg with its
// cache). Callers find it by type assertion on a Store; a Store without it
// is used with Save.
type ChangeSaver interface {
	// SaveChanged is Save for a cfg that equals the config stored at
	// expected except for the groups named in changed (added, replaced or
	// removed). Groups not named are not looked at: a caller that leaves
	// out a group that differs leaves it as stored.
	SaveChanged(ctx context.Context, cfg Config, expected Version, changed []plugin.ID) (Version, error)
}

// ChangeStager is a Stager whose Prepare can be told which groups changed,
// so that preparing a save costs the changed groups rather than the stored
// ones (the file store otherwise walks every group of cfg to find them).
// Callers find it by type assertion on a Store.
type ChangeStager interface {
	// PrepareChanged is Prepare for the config stored at expected with the
	// groups named in changed as delta holds them: a named group in
	// delta.Groups (or delta.Destroying) is added or replaced there, one
	// absent from it is removed from it. Groups not named are not looked
	// at, and delta need not hold them.
	PrepareChanged(ctx context.Context, delta Config, expected Version, changed []plugin.ID) (Pending, error)
}

// Pending is a prepared save. Its methods are safe for concurrent use.
type Pending interface {
	// Commit makes the prepared config the stored one if the stored
	// version still equals the expected one, and returns the new version
	// (durable when Commit returns nil); otherwise it returns ErrConflict
	// (or the error of Save) and changes nothing. Commit runs once: a
	// second call returns an error.
	Commit(ctx context.Context) (Version, error)
	// Abort discards the prepared save. It may be called at any time and
	// more than once; after Commit it does nothing, so `defer p.Abort()`
	// is the usual form.
	Abort()
}

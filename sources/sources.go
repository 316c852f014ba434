package sources

import (
	"context"
	"encoding/json"
	"errors"

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

// Leadership reports whether this replica is the leader.
type Leadership interface {
	// Check reports leadership now, with one synchronous look at the source.
	// An error means the status is unknown, which callers treat as not leader.
	Check(ctx context.Context) (bool, error)
	// Watch blocks until ctx is done. It calls changed once with the first
	// status (checked at once, no blind window) and then on every change.
	// Calls to changed are sequential and never concurrent.
	Watch(ctx context.Context, changed func(leader bool)) error
}

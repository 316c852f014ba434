package front

import (
	"context"
	"errors"
	"net/url"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
)

// Reconciler is all the front asks of the reconciler: one way in for every
// change (Submit: store it durably with the user's intent, then wait, at
// most the reconciler's apply wait, for it to be carried out) and reads
// that change nothing.
type Reconciler interface {
	// Submit hands over one user's change. The error is the store write's
	// (nothing changed); the outcome in the receipt is the reconciler's.
	Submit(ctx context.Context, c submit.Change) (submit.Receipt, error)
	// Stored is the stored specs, sorted by ID.
	Stored(ctx context.Context) ([]plugin.Spec, error)
	// StoredEncoded is Stored, encoded for the wire.
	StoredEncoded(ctx context.Context) (plugin.EncodedSpecs, error)
	// Snapshot is the reconciler's state for Status, from memory.
	Snapshot() submit.Snapshot
}

// Lease is what the front reads of the lease: the role, for followers'
// answers and Status.
type Lease interface {
	View() lease.View
}

// Downstream is what the front may ask of the downstream plugin directly:
// a pretend commit (CommitGroup is only ever called with pretend true: a
// validation) and DescribeGroup. Every change goes through Submit.
type Downstream interface {
	CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error)
	DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error)
}

// Locator says where the leader's Group API is, for LeaderLocation and
// Status.
type Locator interface {
	Location(v lease.View) *url.URL
}

// Health reports problems of the daemon's own beyond the reconciler's
// (claims not held), for Status.
type Health interface {
	Problems() []string
}

var (
	_ Lease      = (*lease.Lease)(nil)
	_ Downstream = (plugin.Group)(nil)
)

// Options configure a Front. Start from DefaultOptions.
type Options struct {
	Reconciler Reconciler // required
	Lease      Lease      // required
	Downstream Downstream // required
	Locator    Locator    // required
	Health     Health     // optional: nil adds no problems
	// Name (--name), Mode and StoreLocation describe this replica in Status.
	Name          string
	Mode          string
	StoreLocation string
	// PluginName is recorded in stored entries, as the original did.
	PluginName string
	// Log gets every stored change at info. The zero Logger discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults; the four parts must still be set.
func DefaultOptions() Options { return Options{Log: logr.Discard()} }

// Validate reports every missing part by its field name (field.Error).
// It changes nothing.
func (o Options) Validate() error {
	var errs []error
	if o.Reconciler == nil {
		errs = append(errs, field.Errorf("Reconciler", "is required"))
	}
	if o.Lease == nil {
		errs = append(errs, field.Errorf("Lease", "is required"))
	}
	if o.Downstream == nil {
		errs = append(errs, field.Errorf("Downstream", "is required"))
	}
	if o.Locator == nil {
		errs = append(errs, field.Errorf("Locator", "is required"))
	}
	return errors.Join(errs...)
}

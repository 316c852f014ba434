package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
)

// Options configure a Downstream.
type Options struct {
	// Dir is the plugin directory to look the plugin up in.
	Dir plugin.Dir
	// Name is the downstream plugin's socket name. Defaults to "group-stateless".
	Name string
	// CallTimeout bounds every call, the handshake included, so a hung
	// plugin costs a caller at most this long. Defaults to 2s.
	CallTimeout time.Duration
	// Log receives per-call debug lines (V(2)). Defaults to discard.
	Log logr.Logger
}

// DefaultOptions returns the defaults for a plugin directory.
func DefaultOptions(dir string) Options {
	return Options{Dir: plugin.Dir{Path: dir}, Name: "group-stateless", CallTimeout: 2 * time.Second}
}

func (o *Options) validate() error {
	switch {
	case o.Dir.Path == "":
		return errors.New("sink: Options.Dir must not be empty")
	case o.Name == "":
		return errors.New("sink: Options.Name must not be empty")
	case o.CallTimeout <= 0:
		return fmt.Errorf("sink: Options.CallTimeout must be positive, got %s", o.CallTimeout)
	}
	return nil
}

// Downstream is the downstream group plugin. It is safe for concurrent use.
type Downstream struct {
	name    string
	timeout time.Duration
	client  *plugin.NamedClient
	log     logr.Logger
}

var _ plugin.Group = (*Downstream)(nil)

// New returns a Downstream. It does not contact the plugin.
func New(opts Options) (*Downstream, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	return &Downstream{
		name:    opts.Name,
		timeout: opts.CallTimeout,
		// The client's own deadline is a backstop; ours is applied per call.
		client: plugin.NewNamedClient(opts.Dir, opts.Name, plugin.ClientOptions{Timeout: opts.CallTimeout}),
		log:    opts.Log,
	}, nil
}

// Name is the downstream plugin's name.
func (d *Downstream) Name() string { return d.name }

func (d *Downstream) call(ctx context.Context, op string, id plugin.ID, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	d.log.V(2).Info("downstream call", "op", op, "group", id, "took", time.Since(start), "error", err)
	if err == nil {
		return nil
	}
	// The plugin's own answer goes back verbatim: it is what the user must see.
	var rpcErr *plugin.RPCError
	if errors.As(err, &rpcErr) {
		return err
	}
	return fmt.Errorf("downstream %s %s: %w", d.name, op, err)
}

// CommitGroup commits (or with pretend, validates) spec downstream.
func (d *Downstream) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	var details string
	err := d.call(ctx, "CommitGroup", spec.ID, func(ctx context.Context) (err error) {
		details, err = d.client.CommitGroup(ctx, spec, pretend)
		return err
	})
	return details, err
}

// FreeGroup frees the group downstream.
func (d *Downstream) FreeGroup(ctx context.Context, id plugin.ID) error {
	return d.call(ctx, "FreeGroup", id, func(ctx context.Context) error { return d.client.FreeGroup(ctx, id) })
}

// DestroyGroup destroys the group downstream.
func (d *Downstream) DestroyGroup(ctx context.Context, id plugin.ID) error {
	return d.call(ctx, "DestroyGroup", id, func(ctx context.Context) error { return d.client.DestroyGroup(ctx, id) })
}

// DescribeGroup describes the group downstream.
func (d *Downstream) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	var desc plugin.Description
	err := d.call(ctx, "DescribeGroup", id, func(ctx context.Context) (err error) {
		desc, err = d.client.DescribeGroup(ctx, id)
		return err
	})
	return desc, err
}

// InspectGroups lists the groups the downstream runs.
func (d *Downstream) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	var specs []plugin.Spec
	err := d.call(ctx, "InspectGroups", "", func(ctx context.Context) (err error) {
		specs, err = d.client.InspectGroups(ctx)
		return err
	})
	return specs, err
}

// Close releases idle connections.
func (d *Downstream) Close() { d.client.Close() }

package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
)

// Options configure a Downstream. Start from DefaultOptions.
type Options struct {
	// Dir is the plugin directory to look the plugin up in. Required.
	Dir plugin.Dir
	// Name is the downstream plugin's socket name. Required. Defaults to
	// "group-stateless".
	Name string
	// CallTimeout bounds every call, the handshake included, so a hung
	// plugin costs a caller at most this long. Must be > 0. Defaults to 2s.
	CallTimeout time.Duration
	// Log receives per-call debug lines (V(2)). The zero Logger discards.
	Log logr.Logger
	// Observer, when set, is told the method, result and duration of every
	// call (see CallObserver). Optional.
	Observer CallObserver
}

// Results passed to CallObserver.ObserveCall.
const (
	ResultOK          = "ok"          // the plugin answered with success
	ResultError       = "error"       // the plugin answered with an error
	ResultUnreachable = "unreachable" // not found, not reached, or no answer in time
	ResultNotSent     = "not_sent"    // the send gate stopped the request before its bytes left (plugin.ErrNotSent)
)

// CallObserver is told about every downstream call, for metrics. It is called
// on the caller's goroutine after the call and must not block.
type CallObserver interface {
	// ObserveCall: method is the Group method ("CommitGroup", ...), result
	// one of ResultOK, ResultError, ResultUnreachable, ResultNotSent.
	ObserveCall(method, result string, d time.Duration)
}

// DefaultOptions returns the defaults for a plugin directory.
func DefaultOptions(dir string) Options {
	return Options{Dir: plugin.Dir{Path: dir}, Name: "group-stateless", CallTimeout: 2 * time.Second}
}

// Validate checks the options without changing them. Errors name fields.
func (o Options) Validate() error {
	var errs []error
	if o.Dir.Path == "" {
		errs = append(errs, field.Errorf("Dir", "must not be empty"))
	}
	if o.Name == "" {
		errs = append(errs, field.Errorf("Name", "must not be empty"))
	}
	if o.CallTimeout <= 0 {
		errs = append(errs, field.Errorf("CallTimeout", "must be > 0, got %s", o.CallTimeout))
	}
	return errors.Join(errs...)
}

// Downstream is the downstream group plugin. It is safe for concurrent use.
type Downstream struct {
	name    string
	timeout time.Duration
	client  *plugin.NamedClient
	log     logr.Logger
	obs     CallObserver
}

var _ plugin.Group = (*Downstream)(nil)

// New returns a Downstream. It does not contact the plugin.
func New(opts Options) (*Downstream, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	return &Downstream{
		name:    opts.Name,
		timeout: opts.CallTimeout,
		// The client's own deadline is a backstop; ours is applied per call.
		client: plugin.NewNamedClient(opts.Dir, opts.Name, plugin.ClientOptions{Timeout: opts.CallTimeout}),
		log:    opts.Log,
		obs:    opts.Observer,
	}, nil
}

// Name is the downstream plugin's name.
func (d *Downstream) Name() string { return d.name }

func (d *Downstream) call(ctx context.Context, op string, id plugin.ID, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	took := time.Since(start)
	if l := d.log.V(2); l.Enabled() {
		l.Info("downstream call", "op", op, "group", id, "took", took.String(), "error", err)
	}
	// The plugin's own answer goes back verbatim: it is what the user must see.
	var rpcErr *plugin.RPCError
	answered := errors.As(err, &rpcErr)
	if d.obs != nil {
		result := ResultOK
		switch {
		case err == nil:
		case answered:
			result = ResultError
		case errors.Is(err, plugin.ErrNotSent): // our own gate: the plugin was never asked
			result = ResultNotSent
		default:
			result = ResultUnreachable
		}
		d.obs.ObserveCall(op, result, took)
	}
	if err == nil || answered {
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

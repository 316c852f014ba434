package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
)

// Local is the Group API this replica serves, with its own view of who
// leads.
type Local interface {
	plugin.Group
	plugin.Manager
}

// Options configure New. Start from DefaultOptions.
type Options struct {
	// Forward turns forwarding on; off, the layer only names the leader's
	// location in not-a-leader answers.
	Forward bool
	// Advertise is this replica's URL; a leader location equal to it is
	// refused. Required with Forward.
	Advertise string
	// TLS is the client side of a forwarded call (the CA the leader's
	// certificate is checked against, and this replica's certificate for
	// mutual TLS). Nil forwards in plaintext (http:// locations only).
	TLS *tls.Config
	// NotLeader is the local Group's not-a-leader error. Required.
	NotLeader error
	// Timeout bounds a forwarded call whose caller set no deadline. Must
	// be > 0. Defaults to 10s.
	Timeout time.Duration
	// Log receives refusals (info) and one line per forwarded call (V(1)).
	// The zero Logger discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults (NotLeader has none).
func DefaultOptions() Options {
	return Options{Timeout: plugin.DefaultTimeout}
}

// Validate checks the options without changing them. Errors name fields.
func (o Options) Validate() error {
	var errs []error
	if o.NotLeader == nil {
		errs = append(errs, field.Errorf("NotLeader", "must not be nil: the local not-a-leader error is required"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, field.Errorf("Timeout", "must be > 0, got %s", o.Timeout))
	}
	if o.Forward && o.Advertise == "" {
		errs = append(errs, field.Errorf("Advertise", "must be set with Forward: forwarding needs this manager's advertised URL"))
	}
	return errors.Join(errs...)
}

// Group is the forwarding layer: a plugin.Group and plugin.Manager.
type Group struct {
	local Local
	o     Options

	mu       sync.Mutex
	client   *plugin.Client // to clientAt; one leader at a time
	clientAt string
}

var (
	_ plugin.Group   = (*Group)(nil)
	_ plugin.Manager = (*Group)(nil)
)

// New wraps local.
func New(local Local, o Options) (*Group, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	return &Group{local: local, o: o}, nil
}

// NotLeaderError is a not-a-leader answer that names where the leader is.
// Its text is exactly "not-a-leader"; the location is its wire data.
type NotLeaderError struct {
	Location string // "" when unknown
	err      error
}

func (e *NotLeaderError) Error() string { return e.err.Error() }

// Unwrap returns the local not-a-leader error.
func (e *NotLeaderError) Unwrap() error { return e.err }

// WireData is the JSON-RPC error's data: the leader's location, or null.
func (e *NotLeaderError) WireData() any {
	if e.Location == "" {
		return nil
	}
	return plugin.NotLeaderData{LeaderLocation: e.Location}
}

// IsLeader passes through.
func (g *Group) IsLeader(ctx context.Context) (bool, error) { return g.local.IsLeader(ctx) }

// LeaderLocation passes through.
func (g *Group) LeaderLocation(ctx context.Context) (*url.URL, error) {
	return g.local.LeaderLocation(ctx)
}

// Status passes through.
func (g *Group) Status(ctx context.Context) (plugin.ManagerStatus, error) {
	return g.local.Status(ctx)
}

// clientFor returns the client of the leader at loc.
func (g *Group) clientFor(loc string) (*plugin.Client, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client != nil && g.clientAt == loc {
		return g.client, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	tlsConf := g.o.TLS
	if u.Scheme == "http" {
		tlsConf = nil
	}
	c, err := plugin.NewURLClient(u, tlsConf, plugin.ClientOptions{
		Timeout: g.o.Timeout,
		Header:  map[string][]string{plugin.HeaderForwarded: {g.o.Advertise}},
	})
	if err != nil {
		return nil, err
	}
	if g.client != nil {
		g.client.Close()
	}
	g.client, g.clientAt = c, loc
	return c, nil
}

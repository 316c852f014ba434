package controller

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/workqueue"
)

// Options configure a Manager. Start from DefaultOptions: Validate refuses
// a zero name, directory, duration or worker count. Its errors name the
// fields; cmd/infrakit-manager maps them to its flags.
type Options struct {
	// Name is the socket name the manager serves the Group API under, and
	// its identity in the leader file (os mode). Defaults to "group".
	Name string
	// PluginDir is the plugin directory. Defaults to plugin.DefaultDir().
	PluginDir string
	// ProxyFor is the downstream group plugin's name. Defaults to
	// "group-stateless".
	ProxyFor string
	// Leadership says whether this replica leads. Required.
	Leadership sources.Leadership
	// Store holds the committed groups. Required.
	Store sources.Store
	// Downstream is the group plugin to drive. Defaults to a sink over
	// PluginDir/ProxyFor with CallTimeout.
	Downstream plugin.Group
	// LeaseDuration is how long a leadership confirmation is good for: an
	// unknown answer (an unreadable leader file, an engine that does not
	// answer) keeps the current role at most this long, then the replica
	// steps down. It must stay below the shortest time in which another
	// replica can take over after the same fault. Defaults to 2s.
	LeaseDuration time.Duration
	// RenewInterval is how often leadership is re-checked besides the
	// source's own pokes. A leader acts without re-checking on a
	// confirmation younger than this (the gate window). Defaults to 250ms.
	RenewInterval time.Duration
	// CheckTimeout bounds one leadership check. Defaults to 1s.
	CheckTimeout time.Duration
	// StoreTimeout bounds one store read or write. Defaults to 5s.
	StoreTimeout time.Duration
	// CallTimeout bounds every downstream call. Defaults to 2s. A hung
	// plugin never delays a handover whatever its value: losing leadership
	// cancels in-flight calls.
	CallTimeout time.Duration
	// ResyncInterval is how often both sides are re-read and every group is
	// re-checked, which re-commits groups to a restarted downstream.
	// Defaults to 10s.
	ResyncInterval time.Duration
	// Workers is the number of groups reconciled concurrently. Defaults to 8.
	Workers int
	// MaxBackoff caps the per-group retry delay. Must be > 0. Defaults to
	// the work queue's default (workqueue.DefaultMaxDelay).
	MaxBackoff time.Duration
	// Metrics receives the controller's, the work queue's, the sink's and
	// the Group API's figures. Nil records nothing.
	Metrics *ops.Metrics
	// Checks, when set, gets the controller's liveness checks (the sync and
	// lease loops made progress) and readiness check (leadership known).
	Checks *ops.Checks
	// Handover is HandoverFenced (a new leader changes nothing downstream
	// until the previous leader has released or its lease has certainly
	// run out) or HandoverFast (it acts at once; the two may overlap).
	// Defaults to fenced.
	Handover string
	// HandoverRecord is where the mode records terms and their releases
	// (os: file.Handover in the store directory). Nil: a fenced new
	// leader always waits for the lease bound.
	HandoverRecord sources.Handover
	// HandoverMargin is added to LeaseDuration to bound a fenced new
	// leader's wait when no release comes: it covers a call the old leader
	// registered just before its lease lapsed, a source that tells the old
	// leader "leader" a moment after it named the new one, and the two
	// monotonic clocks' rates. Defaults to 100ms.
	HandoverMargin time.Duration
	// Claims are exclusive holds taken at start and verified every resync
	// interval (see Claim). Another process holding one refuses the start
	// (ErrMisconfigured); one lost later is logged at error level and shown
	// by Status and /readyz. When Downstream is nil, New adds
	// DownstreamClaim for PluginDir/ProxyFor.
	Claims []Claim
	// Mode and StoreLocation describe this replica in Manager.Status
	// ("os", "<store-dir>/global.config").
	Mode          string
	StoreLocation string
	// Advertise is the URL at which this replica's Group API is reached over
	// TCP (--advertise, e.g. https://127.0.0.1:24801). As leader it
	// publishes it in Locations. Empty: nothing is published.
	Advertise string
	// Locations is where the leader publishes Advertise and followers read
	// it (os: a file beside the leader file). Nil: LeaderLocation names the
	// leader's holder only (infrakit://<holder>).
	Locations sources.LocationStore
	// LocationInterval is how often the leader re-checks its published
	// location and followers re-read it. It follows RenewInterval unless
	// set: 0, the default, means RenewInterval (swarm mode sets 1s: reading
	// it inspects the whole cluster spec). Negative is an error.
	LocationInterval time.Duration
	// TCP, when set, serves the Group and Manager API over TCP as well as
	// on the socket (--listen), with the socket's limits.
	TCP *plugin.TCPOptions
	// Wrap, when set, wraps the Group API before it is served on the socket
	// and over TCP: the forwarding layer (package forward). The wrapper
	// must pass Manager calls through.
	Wrap func(plugin.Group) plugin.Group
	// Clock drives timers and the lease. Required. Defaults to the real
	// clock.
	Clock clock.WithTickerAndDelayedExecution
	// Log is the logger. The zero Logger discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults; Leadership and Store must still be set.
func DefaultOptions() Options {
	return Options{
		Name:           "group",
		PluginDir:      plugin.DefaultDir(),
		ProxyFor:       "group-stateless",
		LeaseDuration:  2 * time.Second,
		RenewInterval:  250 * time.Millisecond,
		CheckTimeout:   time.Second,
		StoreTimeout:   5 * time.Second,
		CallTimeout:    2 * time.Second,
		ResyncInterval: 10 * time.Second,
		Workers:        8,
		MaxBackoff:     workqueue.DefaultMaxDelay,
		Handover:       HandoverFenced,
		HandoverMargin: 100 * time.Millisecond,
		Clock:          clock.RealClock{},
	}
}

// Validate checks the options without changing them. Every error names
// its field ("RenewInterval must be > 0, got 0s").
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct{ name, val string }{{"Name", o.Name}, {"PluginDir", o.PluginDir}, {"ProxyFor", o.ProxyFor}} {
		if f.val == "" {
			errs = append(errs, field.Errorf(f.name, "must not be empty"))
		}
	}
	if o.Name == o.ProxyFor && o.Name != "" {
		errs = append(errs, field.Errorf("Name", "and ProxyFor are both %q: the manager would proxy to itself", o.Name))
	}
	for _, f := range []struct {
		name string
		val  time.Duration
	}{
		{"LeaseDuration", o.LeaseDuration}, {"RenewInterval", o.RenewInterval}, {"CheckTimeout", o.CheckTimeout},
		{"StoreTimeout", o.StoreTimeout}, {"HandoverMargin", o.HandoverMargin}, {"CallTimeout", o.CallTimeout},
		{"ResyncInterval", o.ResyncInterval}, {"MaxBackoff", o.MaxBackoff},
	} {
		if f.val <= 0 {
			errs = append(errs, field.Errorf(f.name, "must be > 0, got %s", f.val))
		}
	}
	if o.RenewInterval > 0 && o.LeaseDuration > 0 && 2*o.RenewInterval > o.LeaseDuration {
		errs = append(errs, field.Errorf("RenewInterval", "(%s) must be at most half of LeaseDuration (%s): the lease needs two checks to survive one lost answer", o.RenewInterval, o.LeaseDuration))
	}
	if o.CheckTimeout > 0 && o.LeaseDuration > 0 && o.CheckTimeout >= o.LeaseDuration {
		errs = append(errs, field.Errorf("CheckTimeout", "(%s) must be below LeaseDuration (%s)", o.CheckTimeout, o.LeaseDuration))
	}
	if o.Handover != HandoverFenced && o.Handover != HandoverFast {
		errs = append(errs, field.Errorf("Handover", "must be %q or %q, got %q", HandoverFenced, HandoverFast, o.Handover))
	}
	if o.LocationInterval < 0 {
		errs = append(errs, field.Errorf("LocationInterval", "must be >= 0, got %s", o.LocationInterval))
	}
	if o.Advertise != "" {
		if u, err := url.Parse(o.Advertise); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, field.Errorf("Advertise", "must be an https:// or http:// URL with HOST:PORT, got %q", o.Advertise))
		}
	}
	if o.TCP != nil {
		if err := o.TCP.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("TCP: %w", err))
		}
	}
	if o.Workers <= 0 {
		errs = append(errs, field.Errorf("Workers", "must be > 0, got %d", o.Workers))
	}
	if o.Leadership == nil {
		errs = append(errs, field.Errorf("Leadership", "must not be nil: a leadership source is required"))
	}
	if o.Store == nil {
		errs = append(errs, field.Errorf("Store", "must not be nil: a store is required"))
	}
	if o.Clock == nil {
		errs = append(errs, field.Errorf("Clock", "must not be nil"))
	}
	return errors.Join(errs...)
}

// applyWait is how long the front waits for the reconciler to carry out a
// user's request before answering that it is still being applied: a lease
// re-check, a queue turn and one downstream call, with room to spare.
func (o *Options) applyWait() time.Duration {
	return o.CheckTimeout + 2*o.CallTimeout + time.Second
}

package reconciler

import (
	"errors"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/workqueue"
)

// Options configure a Reconciler. Start from DefaultOptions. The daemon's
// Options (package controller) document each setting and its flag.
type Options struct {
	Name       string             // this replica's name in the handover record
	ProxyFor   string             // the downstream's name, for problems' text
	PluginDir  string             // where the downstream is looked up, for problems' text
	Leadership sources.Leadership // required
	Store      sources.Store      // required
	Downstream plugin.Group       // required

	LeaseDuration  time.Duration
	RenewInterval  time.Duration
	CheckTimeout   time.Duration
	StoreTimeout   time.Duration
	CallTimeout    time.Duration
	ResyncInterval time.Duration
	// ApplyWait is how long Submit waits for the reconciler's answer.
	ApplyWait time.Duration
	Workers   int
	// MaxBackoff caps the per-group retry delay.
	MaxBackoff time.Duration

	// Handover is HandoverFenced or HandoverFast; HandoverRecord may be nil
	// (the lease bound alone).
	Handover       string
	HandoverRecord sources.Handover
	HandoverMargin time.Duration

	Metrics *ops.Metrics // nil records nothing
	Clock   clock.WithTickerAndDelayedExecution
	Log     logr.Logger // the zero Logger discards
}

// DefaultOptions returns the defaults; Leadership, Store and Downstream
// must still be set.
func DefaultOptions() Options {
	l := lease.DefaultOptions()
	return Options{
		Name:           "group",
		ProxyFor:       "group-stateless",
		LeaseDuration:  l.Duration,
		RenewInterval:  l.RenewInterval,
		CheckTimeout:   l.CheckTimeout,
		StoreTimeout:   5 * time.Second,
		CallTimeout:    2 * time.Second,
		ResyncInterval: 10 * time.Second,
		ApplyWait:      l.CheckTimeout + 2*2*time.Second + time.Second, // a re-check, a queue turn and one call, with room
		Workers:        8,
		MaxBackoff:     workqueue.DefaultMaxDelay,
		Handover:       HandoverFenced,
		HandoverMargin: 100 * time.Millisecond,
		Clock:          clock.RealClock{},
	}
}

// Validate reports every field out of range, by its name (field.Error).
// It changes nothing.
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		val  time.Duration
	}{
		{"StoreTimeout", o.StoreTimeout}, {"CallTimeout", o.CallTimeout}, {"ResyncInterval", o.ResyncInterval},
		{"ApplyWait", o.ApplyWait}, {"HandoverMargin", o.HandoverMargin}, {"MaxBackoff", o.MaxBackoff},
	} {
		if f.val <= 0 {
			errs = append(errs, field.Errorf(f.name, "must be > 0, got %s", f.val))
		}
	}
	if o.Workers <= 0 {
		errs = append(errs, field.Errorf("Workers", "must be > 0, got %d", o.Workers))
	}
	if o.Handover != HandoverFenced && o.Handover != HandoverFast {
		errs = append(errs, field.Errorf("Handover", "must be %q or %q, got %q", HandoverFenced, HandoverFast, o.Handover))
	}
	for _, f := range []struct {
		name string
		nil  bool
	}{{"Leadership", o.Leadership == nil}, {"Store", o.Store == nil}, {"Downstream", o.Downstream == nil}, {"Clock", o.Clock == nil}} {
		if f.nil {
			errs = append(errs, field.Errorf(f.name, "is required"))
		}
	}
	return errors.Join(errs...)
}

// New validates o and builds a Reconciler with its lease and handover. It
// runs nothing until Run.
func New(o Options) (*Reconciler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r, err := newReconciler(&o, o.Store, o.Downstream)
	if err != nil {
		return nil, err
	}
	newHandover(&o, r)
	return r, nil
}

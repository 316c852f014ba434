package lease

import (
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/infrakit-manager/manager/internal/field"
	"k8s.io/utils/clock"
)

// Options configure a Lease. Start from DefaultOptions.
type Options struct {
	// Duration is how long a confirmation (a check that said "leader") is
	// good for on the monotonic clock: an unknown answer keeps the role at
	// most this long. Defaults to 2s.
	Duration time.Duration
	// RenewInterval is how often the lease re-checks besides the source's
	// pokes, and the age under which a confirmation is acted on without a
	// re-check (the gate window). At most half of Duration. Defaults to
	// 250ms.
	RenewInterval time.Duration
	// CheckTimeout bounds one check; below Duration. Defaults to 1s.
	CheckTimeout time.Duration
	// Fenced: a new term changes nothing downstream (Confirm answers
	// ErrFenced) until Lift. Defaults to false.
	Fenced bool
	// Clock drives the lease. Defaults to the real clock.
	Clock clock.WithTicker
	// Log gets the source's unknown answers and recoveries. The zero
	// Logger discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		Duration:      2 * time.Second,
		RenewInterval: 250 * time.Millisecond,
		CheckTimeout:  time.Second,
		Clock:         clock.RealClock{},
		Log:           logr.Discard(),
	}
}

// Validate reports every field that is out of range, by its name
// (field.Error). It changes nothing.
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		val  time.Duration
	}{{"Duration", o.Duration}, {"RenewInterval", o.RenewInterval}, {"CheckTimeout", o.CheckTimeout}} {
		if f.val <= 0 {
			errs = append(errs, field.Errorf(f.name, "must be > 0, got %s", f.val))
		}
	}
	if o.RenewInterval > 0 && o.Duration > 0 && 2*o.RenewInterval > o.Duration {
		errs = append(errs, field.Errorf("RenewInterval", "(%s) must be at most half of Duration (%s): the lease needs two checks to survive one lost answer", o.RenewInterval, o.Duration))
	}
	if o.CheckTimeout > 0 && o.Duration > 0 && o.CheckTimeout >= o.Duration {
		errs = append(errs, field.Errorf("CheckTimeout", "(%s) must be below Duration (%s)", o.CheckTimeout, o.Duration))
	}
	if o.Clock == nil {
		errs = append(errs, field.Errorf("Clock", "is required"))
	}
	return errors.Join(errs...)
}

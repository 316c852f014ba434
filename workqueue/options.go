package workqueue

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
)

// Default option values, as DefaultOptions returns them.
const (
	// DefaultBaseDelay is the first retry delay of AddRateLimited.
	DefaultBaseDelay = 5 * time.Millisecond
	// DefaultMaxDelay caps the per-key backoff. 30s is reached after about
	// 13 consecutive failures (5ms * 2^13 > 30s). It is short enough that a
	// group whose plugin comes back, or a replica that just became leader,
	// converges within half a minute, and long enough that a dead plugin
	// costs one attempt per key every 30s. client-go's 1000s suits API
	// servers under load, not a handful of group plugins.
	DefaultMaxDelay = 30 * time.Second
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrInvalidOptions: New was given Options that fail validation; the
	// message names the field.
	ErrInvalidOptions = errors.New("workqueue: invalid options")
)

// Options configure a Queue. Start from DefaultOptions: a zero Clock,
// BaseDelay or MaxDelay is an error.
type Options struct {
	// Clock is the time source for AddAfter and AddRateLimited. Tests inject
	// k8s.io/utils/clock/testing.FakeClock. Required. Defaults to
	// clock.RealClock{}.
	Clock clock.WithDelayedExecution
	// BaseDelay is the delay of the first AddRateLimited of a key; each
	// further one doubles it. Must be > 0. Defaults to 5ms.
	BaseDelay time.Duration
	// MaxDelay caps the per-key exponential backoff; it must not be below
	// BaseDelay. Defaults to 30s (see DefaultMaxDelay for why).
	MaxDelay time.Duration
	// Name identifies the queue when debugging (see Queue.Name) and is the
	// "name" label of its metrics. Optional.
	Name string
	// Metrics, when set, receives the queue's depth, adds, queue and work
	// durations and retries (see MetricsProvider). Optional.
	Metrics MetricsProvider
}

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{
		Clock:     clock.RealClock{},
		BaseDelay: DefaultBaseDelay,
		MaxDelay:  DefaultMaxDelay,
	}
}

// Validate reports every invalid field without changing any, each error
// naming its field and wrapping ErrInvalidOptions.
func (o Options) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOptions, field.Errorf(name, format, args...)))
	}
	if o.Clock == nil {
		bad("Clock", "must not be nil")
	}
	if o.BaseDelay <= 0 {
		bad("BaseDelay", "must be > 0, got %s", o.BaseDelay)
	}
	if o.MaxDelay <= 0 {
		bad("MaxDelay", "must be > 0, got %s", o.MaxDelay)
	}
	if o.BaseDelay > 0 && o.MaxDelay > 0 && o.BaseDelay > o.MaxDelay {
		bad("MaxDelay", "(%s) must not be below BaseDelay (%s)", o.MaxDelay, o.BaseDelay)
	}
	return errors.Join(errs...)
}

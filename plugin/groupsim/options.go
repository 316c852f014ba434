package groupsim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Method names of the Group SPI, as used in Faults.
const (
	MethodCommitGroup   = "CommitGroup"
	MethodFreeGroup     = "FreeGroup"
	MethodDescribeGroup = "DescribeGroup"
	MethodDestroyGroup  = "DestroyGroup"
	MethodInspectGroups = "InspectGroups"
)

// Methods lists every method name Faults accepts.
func Methods() []string {
	return []string{MethodCommitGroup, MethodFreeGroup, MethodDescribeGroup, MethodDestroyGroup, MethodInspectGroups}
}

// Faults are the failures a Plugin injects. They may be changed at run time
// with Plugin.SetFaults.
type Faults struct {
	// Latency is waited at the start of every call (cut short when the
	// call's context is done or the Plugin is closed). Defaults to 0.
	Latency time.Duration
	// Fail names methods that return the error "simulated failure: <Method>"
	// (after Latency). Defaults to none.
	Fail []string
	// Hang names methods that block until the call's context is done or
	// the Plugin is closed (after Latency). Hang wins over Fail.
	// Defaults to none.
	Hang []string
	// Late names methods whose non-pretend calls wait LateBy and are then
	// carried out even if the caller gave up meanwhile, like a slow plugin
	// that ignores cancellation: a commit that missed the caller's
	// deadline lands afterwards. Defaults to none.
	Late   []string
	LateBy time.Duration
}

// validate checks the fault settings and returns them with method names in
// canonical form ("Group.CommitGroup" becomes "CommitGroup").
func (f Faults) validate() (Faults, error) {
	if f.Latency < 0 {
		return Faults{}, fmt.Errorf("--latency must not be negative, got %s", f.Latency)
	}
	fail, err := canonicalMethods(f.Fail)
	if err != nil {
		return Faults{}, fmt.Errorf("--fail: %w", err)
	}
	hang, err := canonicalMethods(f.Hang)
	if err != nil {
		return Faults{}, fmt.Errorf("--hang: %w", err)
	}
	late, err := canonicalMethods(f.Late)
	if err != nil {
		return Faults{}, fmt.Errorf("--late: %w", err)
	}
	if f.LateBy < 0 {
		return Faults{}, fmt.Errorf("--late-by must not be negative, got %s", f.LateBy)
	}
	return Faults{Latency: f.Latency, Fail: fail, Hang: hang, Late: late, LateBy: f.LateBy}, nil
}

func canonicalMethods(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		c := strings.TrimPrefix(strings.TrimSpace(n), "Group.")
		if !slices.Contains(Methods(), c) {
			return nil, fmt.Errorf("unknown method %q (want one of %s)", n, strings.Join(Methods(), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseMethods splits a comma-separated list of method names (as given on a
// command line), ignoring blanks, and checks every name.
func ParseMethods(list string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return canonicalMethods(names)
}

// The echo modes: how InspectGroups answers a committed spec.
const (
	// EchoNormalised re-serialises the spec the way the original v0.1.0
	// group plugin does: unknown fields dropped, an absent Instance or
	// Flavor filled in as {"Plugin":"","Properties":null}, the original's
	// field order, "LogicalIDs":null in Size mode. The default.
	EchoNormalised = "normalised"
	// EchoVerbatim answers the properties exactly as committed.
	EchoVerbatim = "verbatim"
)

// Options configures a Plugin.
type Options struct {
	// Echo is how InspectGroups answers a committed spec: EchoNormalised
	// (the default, like the original plugin) or EchoVerbatim.
	Echo string
	// Faults to inject from the start. Defaults to none.
	Faults Faults
	// Events, when not nil, receives one JSON line per completed non-pretend
	// CommitGroup, FreeGroup, DestroyGroup and InspectGroups (see Event), each in a single
	// Write call. Use OpenEventFile for a file shared by several processes.
	// The Plugin does not close it. Defaults to nil (no events).
	Events io.Writer
	// Clock times latency and stamps events. Defaults to the real clock.
	Clock clock.Clock
	// NewID returns a random non-negative int63 for instance IDs
	// ("instance-<n>"). Defaults to math/rand/v2's Int64.
	NewID func() int64
	// MaxInstances bounds the size of one group, so that a typo such as
	// "Size": 1e9 gets an error rather than exhausting memory.
	// Defaults to 10000.
	MaxInstances int
	// Log receives a line per state change at V(1). Defaults to discard.
	Log logr.Logger
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{
		Echo:         EchoNormalised,
		Clock:        clock.RealClock{},
		NewID:        rand.Int64,
		MaxInstances: 10000,
		Log:          logr.Discard(),
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Clock == nil {
		errs = append(errs, errors.New("groupsim: a clock is required"))
	}
	if o.NewID == nil {
		errs = append(errs, errors.New("groupsim: an instance ID generator is required"))
	}
	switch o.Echo {
	case "":
		o.Echo = EchoNormalised
	case EchoNormalised, EchoVerbatim:
	default:
		errs = append(errs, fmt.Errorf("--echo must be %q or %q, got %q", EchoNormalised, EchoVerbatim, o.Echo))
	}
	if o.MaxInstances <= 0 {
		errs = append(errs, fmt.Errorf("groupsim: the instance limit must be positive, got %d", o.MaxInstances))
	}
	f, err := o.Faults.validate()
	if err != nil {
		errs = append(errs, err)
	}
	o.Faults = f
	return errors.Join(errs...)
}

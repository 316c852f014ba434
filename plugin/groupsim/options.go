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

	"github.com/infrakit-manager/manager/internal/field"
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

// Validate checks the fault settings without changing them: no negative
// duration, only known method names. The zero Faults inject nothing.
// Errors name fields.
func (f Faults) Validate() error {
	var errs []error
	if f.Latency < 0 {
		errs = append(errs, field.Errorf("Latency", "must be >= 0, got %s", f.Latency))
	}
	for _, m := range []struct {
		name  string
		names []string
	}{{"Fail", f.Fail}, {"Hang", f.Hang}, {"Late", f.Late}} {
		if _, err := canonicalMethods(m.names); err != nil {
			errs = append(errs, field.Errorf(m.name, "%w", err))
		}
	}
	if f.LateBy < 0 {
		errs = append(errs, field.Errorf("LateBy", "must be >= 0, got %s", f.LateBy))
	}
	return errors.Join(errs...)
}

// canonical returns f, which passed Validate, with method names in
// canonical form ("Group.CommitGroup" becomes "CommitGroup").
func (f Faults) canonical() Faults {
	fail, _ := canonicalMethods(f.Fail)
	hang, _ := canonicalMethods(f.Hang)
	late, _ := canonicalMethods(f.Late)
	return Faults{Latency: f.Latency, Fail: fail, Hang: hang, Late: late, LateBy: f.LateBy}
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

// Options configures a Plugin. Start from DefaultOptions.
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
	// Clock times latency and stamps events. Required. Defaults to the
	// real clock.
	Clock clock.Clock
	// NewID returns a random non-negative int63 for instance IDs
	// ("instance-<n>"). Required. Defaults to math/rand/v2's Int64.
	NewID func() int64
	// MaxInstances bounds the size of one group, so that a typo such as
	// "Size": 1e9 gets an error rather than exhausting memory. Must be > 0.
	// Defaults to 10000.
	MaxInstances int
	// Log receives a line per state change at V(1). The zero Logger
	// discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{
		Echo:         EchoNormalised,
		Clock:        clock.RealClock{},
		NewID:        rand.Int64,
		MaxInstances: 10000,
	}
}

// Validate checks the options without changing them. Errors name fields
// (a fault's by its Faults field: Latency, Fail, Hang, Late, LateBy).
func (o Options) Validate() error {
	var errs []error
	if o.Clock == nil {
		errs = append(errs, field.Errorf("Clock", "must not be nil"))
	}
	if o.NewID == nil {
		errs = append(errs, field.Errorf("NewID", "must not be nil"))
	}
	if o.Echo != EchoNormalised && o.Echo != EchoVerbatim {
		errs = append(errs, field.Errorf("Echo", "must be %q or %q, got %q", EchoNormalised, EchoVerbatim, o.Echo))
	}
	if o.MaxInstances <= 0 {
		errs = append(errs, field.Errorf("MaxInstances", "must be > 0, got %d", o.MaxInstances))
	}
	return errors.Join(append(errs, o.Faults.Validate())...)
}

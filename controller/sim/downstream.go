package sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/invariant"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// downFaults are the failures a downstream injects.
type downFaults struct {
	fail map[string]bool // methods that fail at once
	slow time.Duration   // wait (fake time) before the call takes effect
	late time.Duration   // wait (fake time) after it took effect, before answering
}

func (f downFaults) String() string {
	return fmt.Sprintf("fail=%v slow=%s late=%s", keys(f.fail), f.slow, f.late)
}

// downstream is one manager's group plugin: a groupsim.Plugin (which
// normalises specs like the original plugin) behind a fault layer that
// honours the caller's context and records every change it makes.
type downstream struct {
	name  string
	inner *groupsim.Plugin
	clock clock.Clock
	rec   *recorder

	mu     sync.Mutex
	faults downFaults
}

var _ plugin.Group = (*downstream)(nil)

func newDownstream(name string, c clock.Clock, rec *recorder, seq func() int64) (*downstream, error) {
	o := groupsim.DefaultOptions()
	o.Clock, o.NewID = c, seq
	g, err := groupsim.New(o)
	if err != nil {
		return nil, err
	}
	return &downstream{name: name, inner: g, clock: c, rec: rec}, nil
}

func (d *downstream) setFaults(f downFaults) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = f
}

// errSimulated is an injected downstream failure.
var errSimulated = errors.New("sim: downstream failure")

// wait waits fake time d or until ctx ends.
func (d *downstream) wait(ctx context.Context, dur time.Duration) error {
	if dur <= 0 {
		return ctx.Err()
	}
	t := d.clock.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C():
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs one change with the faults: fail, slow (before the effect;
// a cancelled caller gets no effect), late (after it; the caller may give
// up and see an error although the change was made).
func (d *downstream) call(ctx context.Context, method string, fn func(at time.Time) error) error {
	at := d.rec.now() // a change is stamped when the call arrives
	d.mu.Lock()
	f := d.faults
	d.mu.Unlock()
	if f.fail[method] {
		return &plugin.TransportError{Path: d.name, Err: fmt.Errorf("%w: %s", errSimulated, method)}
	}
	if err := d.wait(ctx, f.slow); err != nil {
		return err
	}
	if err := fn(at); err != nil {
		return err
	}
	return d.wait(ctx, f.late)
}

func (d *downstream) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	var details string
	err := d.call(ctx, groupsim.MethodCommitGroup, func(at time.Time) error {
		var err error
		if details, err = d.inner.CommitGroup(ctx, spec, pretend); err == nil && !pretend {
			d.rec.effect(invariant.Effect{Manager: d.name, Group: string(spec.ID), Kind: invariant.Commit, Version: invariant.VersionOf(spec.Properties), At: at})
		}
		return err
	})
	return details, err
}

func (d *downstream) FreeGroup(ctx context.Context, id plugin.ID) error {
	return d.call(ctx, groupsim.MethodFreeGroup, func(at time.Time) error {
		err := d.inner.FreeGroup(ctx, id)
		if err == nil {
			d.rec.effect(invariant.Effect{Manager: d.name, Group: string(id), Kind: invariant.Free, At: at})
		}
		return err
	})
}

func (d *downstream) DestroyGroup(ctx context.Context, id plugin.ID) error {
	return d.call(ctx, groupsim.MethodDestroyGroup, func(at time.Time) error {
		err := d.inner.DestroyGroup(ctx, id)
		if err == nil {
			d.rec.effect(invariant.Effect{Manager: d.name, Group: string(id), Kind: invariant.Destroy, At: at})
		}
		return err
	})
}

func (d *downstream) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	var desc plugin.Description
	err := d.call(ctx, groupsim.MethodDescribeGroup, func(time.Time) error {
		var err error
		desc, err = d.inner.DescribeGroup(ctx, id)
		return err
	})
	return desc, err
}

func (d *downstream) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	var specs []plugin.Spec
	err := d.call(ctx, groupsim.MethodInspectGroups, func(time.Time) error {
		var err error
		specs, err = d.inner.InspectGroups(ctx)
		return err
	})
	return specs, err
}

// phantom makes the downstream run a group no manager committed (left over
// from an earlier life of the plugin).
func (d *downstream) phantom(id string) error {
	_, err := d.inner.CommitGroup(context.Background(), invariant.GroupSpec(id, "phantom", false), false)
	return err
}

// running returns what the downstream runs: group to version mark.
func (d *downstream) running() (map[string]string, error) {
	specs, err := d.inner.InspectGroups(context.Background())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range specs {
		out[string(s.ID)] = invariant.VersionOf(s.Properties)
	}
	return out, nil
}

// keys returns the names set in m, sorted.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

package groupsim

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/plugin"
)

// Plugin is an in-memory group plugin. It is safe for concurrent use.
type Plugin struct {
	events       *eventWriter
	clock        clock.Clock
	newID        func() int64
	maxInstances int
	verbatim     bool // Echo == EchoVerbatim
	log          logr.Logger
	specs        specCache // parsed properties by their bytes

	closed    chan struct{} // closed by Close: releases waiting calls
	closeOnce sync.Once

	mu     sync.Mutex // guards faults and groups
	faults Faults
	groups map[plugin.ID]*group
}

var _ plugin.Group = (*Plugin)(nil)

// New returns a Plugin managing no groups.
func New(opts Options) (*Plugin, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("groupsim: %w", err)
	}
	opts.Faults = opts.Faults.canonical()
	p := &Plugin{
		clock:        opts.Clock,
		newID:        opts.NewID,
		maxInstances: opts.MaxInstances,
		verbatim:     opts.Echo == EchoVerbatim,
		log:          opts.Log,
		faults:       opts.Faults,
		groups:       map[plugin.ID]*group{},
		closed:       make(chan struct{}),
	}
	if opts.Events != nil {
		p.events = &eventWriter{w: opts.Events, clock: opts.Clock, log: opts.Log}
	}
	return p, nil
}

// SetFaults replaces the injected faults; calls already waiting keep theirs.
func (p *Plugin) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("groupsim: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f.canonical()
	return nil
}

// Close releases every call waiting on latency or hanging, which then fail
// with ErrClosed, and makes later calls skip latency and hangs. State is
// kept. It lets a server stop promptly while calls hang. It is idempotent.
func (p *Plugin) Close() {
	p.closeOnce.Do(func() { close(p.closed) })
}

// enter applies the injected faults for one call of method.
func (p *Plugin) enter(ctx context.Context, method string) error {
	p.mu.Lock()
	f := p.faults
	p.mu.Unlock()
	if f.Latency > 0 {
		t := p.clock.NewTimer(f.Latency)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case <-p.closed:
			t.Stop()
			return fmt.Errorf("%s: %w", method, ErrClosed)
		}
	}
	if slices.Contains(f.Hang, method) {
		p.log.V(1).Info("hanging call", "method", method)
		select {
		case <-ctx.Done():
			return fmt.Errorf("simulated hang: %s: %w", method, ctx.Err())
		case <-p.closed:
			return fmt.Errorf("simulated hang: %s: %w", method, ErrClosed)
		}
	}
	if slices.Contains(f.Fail, method) {
		return simulatedFailure(method)
	}
	return nil
}

// late waits Faults.LateBy for a method named in Faults.Late, whatever the
// caller does meanwhile (only Close cuts it short).
func (p *Plugin) late(method string) {
	p.mu.Lock()
	f := p.faults
	p.mu.Unlock()
	if f.LateBy <= 0 || !slices.Contains(f.Late, method) {
		return
	}
	t := p.clock.NewTimer(f.LateBy)
	defer t.Stop()
	select {
	case <-t.C():
	case <-p.closed:
	}
}

// CommitGroup implements plugin.Group.
func (p *Plugin) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (details string, err error) {
	if !pretend {
		defer func() { p.events.record(OpCommit, spec.ID, err == nil) }()
	}
	if err := p.enter(ctx, MethodCommitGroup); err != nil {
		return "", err
	}
	if !pretend {
		p.late(MethodCommitGroup)
	}
	want, err := parseSpecCached(spec, p.maxInstances, &p.specs)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.groups[spec.ID]
	if !ok {
		details = "Managing " + strconv.Itoa(want.size) + " instances"
		if !pretend {
			g := &group{want: want}
			for i := 0; i < want.size; i++ {
				var lid *string
				if want.logicalIDs != nil {
					lid = &want.logicalIDs[i]
				}
				g.instances = append(g.instances, newInstance(p.instanceID(g), lid, want))
			}
			p.groups[spec.ID] = g
			if l := p.log.V(1); l.Enabled() {
				l.Info("managing group", "group", spec.ID, "instances", want.size)
			}
		}
		return details, nil
	}
	pl := planCommit(old, want)
	details = pl.details()
	if pretend {
		return details, nil
	}
	g := &group{want: want, instances: slices.Clone(pl.keep)}
	for _, inst := range pl.update {
		g.instances = append(g.instances, newInstance(p.instanceID(g, old), inst.LogicalID, want))
	}
	for _, lid := range pl.add {
		g.instances = append(g.instances, newInstance(p.instanceID(g, old), lid, want))
	}
	p.groups[spec.ID] = g
	if l := p.log.V(1); l.Enabled() {
		l.Info("updated group", "group", spec.ID, "details", details)
	}
	return details, nil
}

// instanceID returns "instance-<random int63>" not used by any given group.
func (p *Plugin) instanceID(groups ...*group) string {
	for {
		id := "instance-" + strconv.FormatInt(p.newID(), 10)
		used := false
		for _, g := range groups {
			used = used || slices.ContainsFunc(g.instances, func(i plugin.InstanceDescription) bool { return i.ID == id })
		}
		if !used {
			return id
		}
	}
}

// FreeGroup implements plugin.Group: the group is forgotten, its instances left alone.
func (p *Plugin) FreeGroup(ctx context.Context, id plugin.ID) (err error) {
	defer func() { p.events.record(OpFree, id, err == nil) }()
	if err := p.enter(ctx, MethodFreeGroup); err != nil {
		return err
	}
	if err := p.remove(id); err != nil {
		return err
	}
	p.log.V(1).Info("freed group", "group", id)
	return nil
}

// DestroyGroup implements plugin.Group: the group is forgotten and its instances destroyed.
func (p *Plugin) DestroyGroup(ctx context.Context, id plugin.ID) (err error) {
	defer func() { p.events.record(OpDestroy, id, err == nil) }()
	if err := p.enter(ctx, MethodDestroyGroup); err != nil {
		return err
	}
	if err := p.remove(id); err != nil {
		return err
	}
	p.log.V(1).Info("destroyed group", "group", id)
	return nil
}

func (p *Plugin) remove(id plugin.ID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.groups[id]; !ok {
		return notWatched(id)
	}
	delete(p.groups, id)
	return nil
}

// DescribeGroup implements plugin.Group. Instances are sorted by ID; the
// group is always converged.
func (p *Plugin) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	if err := p.enter(ctx, MethodDescribeGroup); err != nil {
		return plugin.Description{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.groups[id]
	if !ok {
		return plugin.Description{}, notWatched(id)
	}
	out := make([]plugin.InstanceDescription, 0, len(g.instances))
	for _, inst := range g.instances {
		inst.Tags = maps.Clone(inst.Tags)
		if inst.LogicalID != nil {
			v := *inst.LogicalID
			inst.LogicalID = &v
		}
		out = append(out, inst)
	}
	slices.SortFunc(out, func(a, b plugin.InstanceDescription) int { return cmp.Compare(a.ID, b.ID) })
	return plugin.Description{Instances: out, Converged: true}, nil
}

// InspectGroups implements plugin.Group: the specs of all groups sorted by
// ID, properties re-serialised in the original's order; nil when none.
func (p *Plugin) InspectGroups(ctx context.Context) (_ []plugin.Spec, err error) {
	defer func() { p.events.record(OpInspect, "", err == nil) }()
	if err := p.enter(ctx, MethodInspectGroups); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var specs []plugin.Spec
	for _, id := range slices.Sorted(maps.Keys(p.groups)) {
		s, err := p.groups[id].want.inspectSpec(p.verbatim)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}

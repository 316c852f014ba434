package forwardtest

import (
	"context"
	"errors"
	"net/url"
	"sync"

	"github.com/infrakit-manager/manager/plugin"
)

// ErrNotLeader is the fake's not-a-leader error, with the original's text.
var ErrNotLeader = errors.New("not-a-leader")

// Call is one recorded call.
type Call struct {
	Method      string
	ID          plugin.ID
	ForwardedBy string // "" when not forwarded
}

// Local is a fake forward.Local. The zero value is not usable; use New.
type Local struct {
	mu       sync.Mutex
	leader   bool
	location string
	fail     map[string]error
	groups   map[plugin.ID]plugin.Spec
	calls    []Call
}

// New returns a fake that leads when leader is true.
func New(leader bool) *Local {
	return &Local{leader: leader, fail: map[string]error{}, groups: map[plugin.ID]plugin.Spec{}}
}

// SetLeader sets whether it leads and where it says the leader is.
func (l *Local) SetLeader(leader bool, location string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader, l.location = leader, location
}

// Fail makes method answer err (nil: succeed again).
func (l *Local) Fail(method string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail[method] = err
}

// Calls returns the calls so far.
func (l *Local) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Stored returns the stored spec IDs.
func (l *Local) Stored() map[plugin.ID]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[plugin.ID]bool{}
	for id := range l.groups {
		out[id] = true
	}
	return out
}

// enter records a call and answers its injected error, or not-a-leader for
// a write on a follower.
func (l *Local) enter(ctx context.Context, method string, id plugin.ID, write bool) error {
	by, _ := plugin.ForwardedBy(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, Call{Method: method, ID: id, ForwardedBy: by})
	if err := l.fail[method]; err != nil {
		return err
	}
	if write && !l.leader {
		return ErrNotLeader
	}
	return nil
}

// CommitGroup stores spec (leader only).
func (l *Local) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	if err := l.enter(ctx, "CommitGroup", spec.ID, true); err != nil {
		return "", err
	}
	if !pretend {
		l.mu.Lock()
		l.groups[spec.ID] = spec
		l.mu.Unlock()
	}
	return "committed " + string(spec.ID), nil
}

// FreeGroup removes id (leader only).
func (l *Local) FreeGroup(ctx context.Context, id plugin.ID) error {
	return l.remove(ctx, "FreeGroup", id)
}

// DestroyGroup removes id (leader only).
func (l *Local) DestroyGroup(ctx context.Context, id plugin.ID) error {
	return l.remove(ctx, "DestroyGroup", id)
}

func (l *Local) remove(ctx context.Context, method string, id plugin.ID) error {
	if err := l.enter(ctx, method, id, true); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.groups, id)
	return nil
}

// DescribeGroup answers one instance per stored group.
func (l *Local) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	if err := l.enter(ctx, "DescribeGroup", id, false); err != nil {
		return plugin.Description{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.groups[id]; !ok {
		return plugin.Description{}, errors.New("Group '" + string(id) + "' is not being watched")
	}
	return plugin.Description{Instances: []plugin.InstanceDescription{{ID: string(id) + "-1"}}, Converged: true}, nil
}

// InspectGroups answers the stored specs.
func (l *Local) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	if err := l.enter(ctx, "InspectGroups", "", false); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []plugin.Spec
	for _, s := range l.groups {
		out = append(out, s)
	}
	return out, nil
}

// IsLeader answers as set.
func (l *Local) IsLeader(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader, nil
}

// LeaderLocation answers as set (nil when "").
func (l *Local) LeaderLocation(context.Context) (*url.URL, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.location == "" {
		return nil, nil
	}
	return url.Parse(l.location)
}

// Status answers the role only.
func (l *Local) Status(context.Context) (plugin.ManagerStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	role := plugin.RoleFollower
	if l.leader {
		role = plugin.RoleLeader
	}
	return plugin.ManagerStatus{Role: role}, nil
}

package controllertest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// Recorder is a downstream that forwards to a swappable group plugin and
// counts the calls that change something.
type Recorder struct {
	mu           sync.Mutex
	g            plugin.Group
	commits      map[plugin.ID]int
	frees        map[plugin.ID]int
	destroys     map[plugin.ID]int
	inspects     int
	destroyFails int // the next this many DestroyGroup calls fail
}

var _ plugin.Group = (*Recorder)(nil)

// NewRecorder is a Recorder over a fresh group simulator.
func NewRecorder(t testing.TB) *Recorder {
	return &Recorder{g: NewSim(t), commits: map[plugin.ID]int{}, frees: map[plugin.ID]int{}, destroys: map[plugin.ID]int{}}
}

// NewSim is a fresh group simulator.
func NewSim(t testing.TB) *groupsim.Plugin {
	t.Helper()
	sim, err := groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	return sim
}

// Swap makes g the plugin calls are forwarded to.
func (r *Recorder) Swap(g plugin.Group) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.g = g
}

// Target is the plugin calls are forwarded to.
func (r *Recorder) Target() plugin.Group {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.g
}

func (r *Recorder) count(m map[plugin.ID]int, id plugin.ID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[id]
}

// Commits counts the successful real commits of id.
func (r *Recorder) Commits(id plugin.ID) int { return r.count(r.commits, id) }

// Frees counts the successful frees of id.
func (r *Recorder) Frees(id plugin.ID) int { return r.count(r.frees, id) }

// Destroys counts the successful destroys of id.
func (r *Recorder) Destroys(id plugin.ID) int { return r.count(r.destroys, id) }

// FailDestroys makes the next n DestroyGroup calls fail as a transport
// failure (0: none).
func (r *Recorder) FailDestroys(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.destroyFails = n
}

func (r *Recorder) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	d, err := r.Target().CommitGroup(ctx, spec, pretend)
	if err == nil && !pretend {
		r.mu.Lock()
		r.commits[spec.ID]++
		r.mu.Unlock()
	}
	return d, err
}

func (r *Recorder) FreeGroup(ctx context.Context, id plugin.ID) error {
	err := r.Target().FreeGroup(ctx, id)
	if err == nil {
		r.mu.Lock()
		r.frees[id]++
		r.mu.Unlock()
	}
	return err
}

func (r *Recorder) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	return r.Target().DescribeGroup(ctx, id)
}

func (r *Recorder) DestroyGroup(ctx context.Context, id plugin.ID) error {
	r.mu.Lock()
	fail := r.destroyFails > 0
	if fail {
		r.destroyFails--
	}
	r.mu.Unlock()
	if fail {
		return &plugin.TransportError{Path: "/x", Err: errors.New("connection refused")}
	}
	err := r.Target().DestroyGroup(ctx, id)
	if err == nil {
		r.mu.Lock()
		r.destroys[id]++
		r.mu.Unlock()
	}
	return err
}

func (r *Recorder) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	r.mu.Lock()
	r.inspects++
	r.mu.Unlock()
	return r.Target().InspectGroups(ctx)
}

// Inspected counts InspectGroups calls: one per sync.
func (r *Recorder) Inspected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inspects
}

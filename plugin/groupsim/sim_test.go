package groupsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// newTestPlugin builds a Plugin whose instance IDs count up from 1.
func newTestPlugin(t *testing.T, opts Options) *Plugin {
	t.Helper()
	var n atomic.Int64
	opts.NewID = func() int64 { return n.Add(1) }
	p, err := New(opts)
	require.NoError(t, err)
	return p
}

// props builds group properties with a size or logical IDs and an instance note.
func props(alloc string, note string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"Allocation":%s,"Instance":{"Plugin":"instance-file","Properties":{"Note":%q}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"tier":"web"}}}}`, alloc, note))
}

func logicalIDs(d plugin.Description) []string {
	var out []string
	for _, inst := range d.Instances {
		if inst.LogicalID == nil {
			out = append(out, "-")
		} else {
			out = append(out, *inst.LogicalID)
		}
	}
	slices.Sort(out)
	return out
}

func instanceIDs(d plugin.Description) []string {
	var out []string
	for _, inst := range d.Instances {
		out = append(out, inst.ID)
	}
	return out
}

func TestCommitSequences(t *testing.T) {
	type step struct {
		props   json.RawMessage
		details string
		logical []string // logical IDs of the instances afterwards ("-" for none)
		kept    int      // instances whose ID survived this step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"new then same", []step{
			{props(`{"Size":2}`, "v1"), "Managing 2 instances", []string{"-", "-"}, 0},
			{props(`{"Size":2}`, "v1"), "Noop", []string{"-", "-"}, 2},
		}},
		{"rolling update", []step{
			{props(`{"Size":3}`, "v1"), "Managing 3 instances", []string{"-", "-", "-"}, 0},
			{props(`{"Size":3}`, "v2"), "Performing a rolling update on 3 instances", []string{"-", "-", "-"}, 0},
		}},
		{"scale up", []step{
			{props(`{"Size":2}`, "v1"), "Managing 2 instances", []string{"-", "-"}, 0},
			{props(`{"Size":5}`, "v1"), "Adding 3 instances to increase the group size to 5", []string{"-", "-", "-", "-", "-"}, 2},
		}},
		{"scale down", []step{
			{props(`{"Size":5}`, "v1"), "Managing 5 instances", []string{"-", "-", "-", "-", "-"}, 0},
			{props(`{"Size":2}`, "v1"), "Terminating 3 instances to reduce the group size to 2", []string{"-", "-"}, 2},
		}},
		{"update and scale up", []step{
			{props(`{"Size":5}`, "v1"), "Managing 5 instances", nil, 0},
			{props(`{"Size":10}`, "v2"), "Performing a rolling update on 5 instances, then adding 5 instances to increase the group size to 10", nil, 0},
		}},
		{"update and scale down", []step{
			{props(`{"Size":4}`, "v1"), "Managing 4 instances", nil, 0},
			{props(`{"Size":1}`, "v2"), "Terminating 3 instances to reduce the group size to 1, then performing a rolling update on 1 instances", []string{"-"}, 0},
		}},
		{"logical ids", []step{
			{props(`{"LogicalIDs":["a","b"]}`, "v1"), "Managing 2 instances", []string{"a", "b"}, 0},
			{props(`{"LogicalIDs":["b","a"]}`, "v1"), "Noop", []string{"a", "b"}, 2},
			{props(`{"LogicalIDs":["a","c"]}`, "v1"), "Terminating 1 instances, then adding 1 instances", []string{"a", "c"}, 1},
			{props(`{"LogicalIDs":["a","c","d"]}`, "v2"), "Performing a rolling update on 2 instances, then adding 1 instances to increase the group size to 3", []string{"a", "c", "d"}, 0},
			{props(`{"LogicalIDs":["d"]}`, "v2"), "Terminating 2 instances to reduce the group size to 1", []string{"d"}, 1},
		}},
		{"switch allocation method", []step{
			{props(`{"Size":2}`, "v1"), "Managing 2 instances", []string{"-", "-"}, 0},
			{props(`{"LogicalIDs":["x"]}`, "v1"), "Terminating 2 instances to reduce the group size to 1, then adding 1 instances", []string{"x"}, 0},
			{props(`{"Size":1}`, "v1"), "Terminating 1 instances, then adding 1 instances", []string{"-"}, 0},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newTestPlugin(t, DefaultOptions())
			ctx := t.Context()
			var before []string
			for i, s := range c.steps {
				spec := plugin.Spec{ID: "g", Properties: s.props}
				want, err := parseSpec(spec, 100)
				require.NoError(t, err)

				// pretend first: same details, nothing changes
				details, err := p.CommitGroup(ctx, spec, true)
				require.NoError(t, err, "step %d", i)
				require.Equal(t, s.details, details, "step %d pretend", i)
				if before != nil {
					desc, err := p.DescribeGroup(ctx, "g")
					require.NoError(t, err)
					require.Equal(t, before, instanceIDs(desc), "step %d: pretend changed instances", i)
				}

				details, err = p.CommitGroup(ctx, spec, false)
				require.NoError(t, err, "step %d", i)
				require.Equal(t, s.details, details, "step %d", i)

				desc, err := p.DescribeGroup(ctx, "g")
				require.NoError(t, err)
				require.True(t, desc.Converged)
				require.Len(t, desc.Instances, want.size, "step %d", i)
				if s.logical != nil {
					require.Equal(t, s.logical, logicalIDs(desc), "step %d", i)
				}
				after := instanceIDs(desc)
				require.True(t, slices.IsSorted(after), "describe sorts by ID")
				require.Len(t, slices.Compact(slices.Clone(after)), len(after), "instance IDs are unique")
				kept := 0
				for _, id := range after {
					if slices.Contains(before, id) {
						kept++
					}
				}
				require.Equal(t, s.kept, kept, "step %d: surviving instances", i)
				for _, inst := range desc.Instances {
					require.Equal(t, want.configSHA, inst.Tags[TagConfigSHA])
					require.Equal(t, "g", inst.Tags[TagGroup])
					require.Equal(t, "web", inst.Tags["tier"])
				}
				before = after
			}
		})
	}
}

func TestInstanceIDsAreRandomInt63(t *testing.T) {
	p, err := New(DefaultOptions())
	require.NoError(t, err)
	_, err = p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":50}`, "v1")}, false)
	require.NoError(t, err)
	desc, err := p.DescribeGroup(t.Context(), "g")
	require.NoError(t, err)
	ids := instanceIDs(desc)
	require.Len(t, ids, 50)
	require.Len(t, slices.Compact(ids), 50)
	for _, id := range ids {
		var n int64
		_, err := fmt.Sscanf(id, "instance-%d", &n)
		require.NoError(t, err, id)
		require.GreaterOrEqual(t, n, int64(0))
	}
}

func TestInstanceIDCollisionIsAvoided(t *testing.T) {
	seq := []int64{7, 7, 7, 8}
	var mu sync.Mutex
	opts := DefaultOptions()
	opts.NewID = func() int64 {
		mu.Lock()
		defer mu.Unlock()
		n := seq[0]
		if len(seq) > 1 {
			seq = seq[1:]
		}
		return n
	}
	p, err := New(opts)
	require.NoError(t, err)
	_, err = p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":2}`, "v1")}, false)
	require.NoError(t, err)
	desc, err := p.DescribeGroup(t.Context(), "g")
	require.NoError(t, err)
	require.Equal(t, []string{"instance-7", "instance-8"}, instanceIDs(desc))
}

func TestPretendNewGroupIsNotManaged(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	details, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"LogicalIDs":["a","b","c"]}`, "v1")}, true)
	require.NoError(t, err)
	require.Equal(t, "Managing 3 instances", details)
	groups, err := p.InspectGroups(t.Context())
	require.NoError(t, err)
	require.Nil(t, groups)
	_, err = p.DescribeGroup(t.Context(), "g")
	require.EqualError(t, err, "Group 'g' is not being watched")
}

func TestUnknownGroup(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	ops := map[string]func(id plugin.ID) error{
		"free":     func(id plugin.ID) error { return p.FreeGroup(t.Context(), id) },
		"destroy":  func(id plugin.ID) error { return p.DestroyGroup(t.Context(), id) },
		"describe": func(id plugin.ID) error { _, err := p.DescribeGroup(t.Context(), id); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			err := op("nosuch")
			require.EqualError(t, err, "Group 'nosuch' is not being watched")
			require.ErrorIs(t, err, ErrNotWatched)
		})
	}
}

func TestFreeAndDestroyForgetTheGroup(t *testing.T) {
	for _, name := range []string{"free", "destroy"} {
		t.Run(name, func(t *testing.T) {
			p := newTestPlugin(t, DefaultOptions())
			ctx := t.Context()
			for _, id := range []plugin.ID{"b", "a", "c"} {
				_, err := p.CommitGroup(ctx, plugin.Spec{ID: id, Properties: props(`{"Size":1}`, "v1")}, false)
				require.NoError(t, err)
			}
			groups, err := p.InspectGroups(ctx)
			require.NoError(t, err)
			require.Equal(t, []plugin.ID{"a", "b", "c"}, specIDs(groups), "sorted by ID")

			remove := p.FreeGroup
			if name == "destroy" {
				remove = p.DestroyGroup
			}
			require.NoError(t, remove(ctx, "b"))
			require.EqualError(t, remove(ctx, "b"), "Group 'b' is not being watched")
			groups, err = p.InspectGroups(ctx)
			require.NoError(t, err)
			require.Equal(t, []plugin.ID{"a", "c"}, specIDs(groups))

			// committing again manages it anew
			details, err := p.CommitGroup(ctx, plugin.Spec{ID: "b", Properties: props(`{"Size":1}`, "v1")}, false)
			require.NoError(t, err)
			require.Equal(t, "Managing 1 instances", details)
		})
	}
}

func specIDs(specs []plugin.Spec) []plugin.ID {
	var out []plugin.ID
	for _, s := range specs {
		out = append(out, s.ID)
	}
	return out
}

func TestDescribeReturnsCopies(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"LogicalIDs":["a"]}`, "v1")}, false)
	require.NoError(t, err)
	desc, err := p.DescribeGroup(t.Context(), "g")
	require.NoError(t, err)
	desc.Instances[0].Tags["tier"] = "changed"
	*desc.Instances[0].LogicalID = "changed"
	again, err := p.DescribeGroup(t.Context(), "g")
	require.NoError(t, err)
	require.Equal(t, "web", again.Instances[0].Tags["tier"])
	require.Equal(t, "a", *again.Instances[0].LogicalID)
}

func TestConcurrentUse(t *testing.T) {
	p, err := New(DefaultOptions())
	require.NoError(t, err)
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := plugin.ID(fmt.Sprintf("g%d", w%3))
			for i := range 50 {
				_, _ = p.CommitGroup(ctx, plugin.Spec{ID: id, Properties: props(fmt.Sprintf(`{"Size":%d}`, 1+i%4), "v1")}, i%5 == 0)
				_, _ = p.DescribeGroup(ctx, id)
				_, _ = p.InspectGroups(ctx)
				if i%7 == 0 {
					_ = p.FreeGroup(ctx, id)
				}
				if i%11 == 0 {
					_ = p.SetFaults(Faults{})
				}
			}
		}()
	}
	wg.Wait()
	groups, err := p.InspectGroups(ctx)
	require.NoError(t, err)
	for _, g := range groups {
		desc, err := p.DescribeGroup(ctx, g.ID)
		require.NoError(t, err)
		want, err := parseSpec(plugin.Spec{ID: g.ID, Properties: g.Properties}, 100)
		require.NoError(t, err)
		require.Len(t, desc.Instances, want.size, "the instance set matches the last commit")
	}
}

func TestEchoModes(t *testing.T) {
	committed := plugin.Spec{ID: "n", Properties: json.RawMessage(`{"Allocation":{"Size":1},"Extra":1}`)}
	cases := []struct {
		echo string
		want string
	}{
		{EchoNormalised, `{"Instance":{"Plugin":"","Properties":null},"Flavor":{"Plugin":"","Properties":null},"Allocation":{"Size":1,"LogicalIDs":null}}`},
		{EchoVerbatim, `{"Allocation":{"Size":1},"Extra":1}`},
	}
	for _, c := range cases {
		t.Run(c.echo, func(t *testing.T) {
			o := DefaultOptions()
			o.Echo = c.echo
			sim, err := New(o)
			require.NoError(t, err)
			_, err = sim.CommitGroup(t.Context(), committed, false)
			require.NoError(t, err)
			specs, err := sim.InspectGroups(t.Context())
			require.NoError(t, err)
			require.Len(t, specs, 1)
			require.JSONEq(t, c.want, string(specs[0].Properties))
		})
	}
	o := DefaultOptions()
	o.Echo = "loud"
	_, err := New(o)
	require.ErrorContains(t, err, `Echo must be "normalised" or "verbatim", got "loud"`)
}

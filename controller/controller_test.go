package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/grouptest"
	"github.com/infrakit-manager/manager/sources"
)

func TestCommit_LeaderStoresAndReturnsDownstreamDetails(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	details, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)
	require.Equal(t, "Managing 2 instances", details)
	require.Equal(t, []plugin.ID{"cattle"}, e.stored(t))
	require.Equal(t, []plugin.ID{"cattle"}, e.running(t))

	// The stored entry has the original's shape: the whole spec under Properties.
	cfg, _, err := e.store.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, "group-stateless", cfg.Groups["cattle"].Plugin)
	var stored plugin.Spec
	require.NoError(t, json.Unmarshal(cfg.Groups["cattle"].Properties, &stored))
	require.Equal(t, plugin.ID("cattle"), stored.ID)

	details, err = e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), true)
	require.NoError(t, err)
	require.Equal(t, "Noop", details)
}

func TestCommit_FollowerSaysNotALeader(t *testing.T) {
	e := newEnv(t, false)
	e.start(t)
	for _, pretend := range []bool{false, true} {
		_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), pretend)
		require.EqualError(t, err, "not-a-leader")
	}
	require.EqualError(t, e.m.Group().FreeGroup(t.Context(), "cattle"), "not-a-leader")
	require.EqualError(t, e.m.Group().DestroyGroup(t.Context(), "cattle"), "not-a-leader")
	require.Empty(t, e.stored(t))
	require.Equal(t, 0, e.store.Saves())
}

func TestCommit_InvalidSpecIsRejectedAndNotStored(t *testing.T) {
	cases := []struct {
		name string
		spec plugin.Spec
		want string
	}{
		{"blank id", plugin.Spec{Properties: json.RawMessage(`{}`)}, "Group ID must not be blank"},
		{"not json", plugin.Spec{ID: "x", Properties: json.RawMessage(`{`)}, "not valid JSON"},
		{"no allocation", plugin.Spec{ID: "x", Properties: json.RawMessage(`{"Instance":{}}`)}, "Allocation must not be blank"},
		{"two allocations", plugin.Spec{ID: "x", Properties: json.RawMessage(`{"Allocation":{"Size":1,"LogicalIDs":["a"]}}`)}, "Only one Allocation method may be used"},
	}
	e := newEnv(t, true)
	e.start(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.m.Group().CommitGroup(t.Context(), c.spec, false)
			require.ErrorContains(t, err, c.want)
			require.Empty(t, e.stored(t))
		})
	}
}

func TestCommit_DownstreamDownAfterSave_StoredAndAppliedLater(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.MaxBackoff = 20 * time.Millisecond })
	e.start(t)
	sim := newSim(t)
	e.down.swap(&failCommit{Group: sim, fail: true})
	_, err := e.m.Group().CommitGroup(t.Context(), spec("web", 1), false)
	require.ErrorIs(t, err, ErrNotApplied)
	require.ErrorContains(t, err, "is stored and will be applied")
	require.Equal(t, []plugin.ID{"web"}, e.stored(t))

	e.down.swap(sim) // the plugin recovers: the loop applies the stored spec
	eventually(t, func() bool { return len(e.running(t)) == 1 }, "stored group applied after recovery")
}

// failCommit fails non-pretend commits while fail is set.
type failCommit struct {
	plugin.Group
	fail bool
}

func (f *failCommit) CommitGroup(ctx context.Context, s plugin.Spec, pretend bool) (string, error) {
	if f.fail && !pretend {
		return "", &plugin.TransportError{Path: "/x", Err: errors.New("connection refused")}
	}
	return f.Group.CommitGroup(ctx, s, pretend)
}

func TestLeadership_LossFreesGainCommits(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	for _, id := range []string{"a", "b", "c"} {
		_, err := e.m.Group().CommitGroup(t.Context(), spec(id, 1), false)
		require.NoError(t, err)
	}
	e.leader.Set(false)
	eventually(t, func() bool { return len(e.running(t)) == 0 }, "old leader frees everything")
	e.waitLeader(t, false)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("d", 1), false)
	require.EqualError(t, err, "not-a-leader")
	require.Len(t, e.stored(t), 3, "losing leadership never touches the store")

	e.leader.Set(true)
	eventually(t, func() bool { return len(e.running(t)) == 3 }, "new leader commits every stored group")
}

func TestResync_RestartedDownstreamIsRecommitted(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.ResyncInterval = 30 * time.Millisecond })
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)
	e.down.swap(newSim(t)) // a restarted plugin has forgotten everything
	eventually(t, func() bool { return len(e.running(t)) == 1 }, "resync re-commits")
}

func TestReconcile_EchoedSpecWithNullsIsNotADifference(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.ResyncInterval = 10 * time.Millisecond })
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)
	// Many resyncs later the group was committed exactly once: the plugin's
	// echo with "LogicalIDs":null and its own key order compares equal.
	eventually(t, func() bool { return e.down.count(e.down.commits, "cattle") == 1 }, "the commit reached the downstream")
	after := e.down.inspected()
	eventually(t, func() bool { return e.down.inspected() >= after+10 }, "ten resyncs")
	require.Equal(t, 1, e.down.count(e.down.commits, "cattle"), "a resync re-committed an equal spec")
}

func TestDestroy_NeverComesBack(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 1), false)
	require.NoError(t, err)
	require.NoError(t, e.m.Group().DestroyGroup(t.Context(), "cattle"))
	require.Empty(t, e.stored(t))
	require.Empty(t, e.running(t))
	e.leader.Set(false)
	e.waitLeader(t, false)
	e.leader.Set(true)
	e.waitLeader(t, true)
	_, err = e.m.Group().CommitGroup(t.Context(), spec("other", 1), false)
	require.NoError(t, err)
	eventually(t, func() bool { return len(e.running(t)) == 1 }, "only the other group runs")
	require.Equal(t, []plugin.ID{"other"}, e.running(t))

	err = e.m.Group().DestroyGroup(t.Context(), "nosuch")
	require.EqualError(t, err, "Group 'nosuch' is not being watched")
}

func TestFree_RemovesFromStoreAndDownstream(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 1), false)
	require.NoError(t, err)
	require.NoError(t, e.m.Group().FreeGroup(t.Context(), "cattle"))
	require.Empty(t, e.stored(t))
	require.Empty(t, e.running(t))
}

func TestCorruptStore_NoActionAndClearErrors(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.ResyncInterval = 10 * time.Millisecond })
	// Something runs downstream that the store would describe if readable.
	_, err := e.down.CommitGroup(t.Context(), spec("precious", 1), false)
	require.NoError(t, err)
	e.store.SetLoadError(errors.Join(sources.ErrCorrupt, errors.New("global.config: line 3, column 1")))
	e.start(t)
	// Proving that nothing happens needs the resyncs to have run: each one
	// reads the store (and fails).
	eventually(t, func() bool { return e.store.Loads() >= 10 }, "ten resyncs reading the unreadable store")
	require.Equal(t, []plugin.ID{"precious"}, e.running(t), "a leader that cannot read its store must not free anything")
	require.Zero(t, e.down.count(e.down.frees, "precious"))
	_, err = e.m.Group().InspectGroups(t.Context())
	require.ErrorIs(t, err, sources.ErrCorrupt)
	_, err = e.m.Group().CommitGroup(t.Context(), spec("new", 1), false)
	require.ErrorIs(t, err, sources.ErrCorrupt)

	// Once the store reads again, desired state is known: "precious" is not
	// stored, so it is freed, and new commits work.
	e.store.SetLoadError(nil)
	_, err = e.m.Group().CommitGroup(t.Context(), spec("new", 1), false)
	require.NoError(t, err)
	eventually(t, func() bool { return len(e.running(t)) == 1 && e.running(t)[0] == "new" }, "converged on the store")
}

func TestInspect_AnswersStoreOnEveryReplica(t *testing.T) {
	leader := newEnv(t, true)
	leader.start(t)
	_, err := leader.m.Group().CommitGroup(t.Context(), spec("b", 1), false)
	require.NoError(t, err)
	_, err = leader.m.Group().CommitGroup(t.Context(), spec("a", 1), false)
	require.NoError(t, err)

	follower := newEnv(t, false, func(o *Options) { o.Store = leader.store })
	follower.start(t)
	specs, err := follower.m.Group().InspectGroups(t.Context())
	require.NoError(t, err)
	require.Len(t, specs, 2)
	require.Equal(t, plugin.ID("a"), specs[0].ID)

	empty := newEnv(t, false)
	got, err := empty.m.Group().InspectGroups(t.Context())
	require.NoError(t, err)
	require.Nil(t, got, "no groups is a nil list (wire: null)")
}

func TestRunOnce(t *testing.T) {
	e := newEnv(t, true)
	seed := newEnv(t, true, func(o *Options) { o.Store = e.store })
	seed.start(t)
	for _, id := range []string{"a", "b"} {
		_, err := seed.m.Group().CommitGroup(t.Context(), spec(id, 1), false)
		require.NoError(t, err)
	}
	_, err := e.down.CommitGroup(t.Context(), spec("stray", 1), false)
	require.NoError(t, err)

	var out bytes.Buffer
	sum, err := e.m.RunOnce(t.Context(), &out, true)
	require.NoError(t, err)
	require.Equal(t, 3, sum.Planned, out.String())
	require.Contains(t, out.String(), "would run")
	require.ElementsMatch(t, []plugin.ID{"stray"}, e.running(t), "dry run acts on nothing")

	out.Reset()
	sum, err = e.m.RunOnce(t.Context(), &out, false)
	require.NoError(t, err)
	require.True(t, sum.Converged(), out.String())
	require.Equal(t, 2, sum.Committed)
	require.Equal(t, 1, sum.Freed)
	require.ElementsMatch(t, []plugin.ID{"a", "b"}, e.running(t))
	require.True(t, strings.HasPrefix(out.String(), "role: leader"), out.String())
}

func TestManager_StopIdempotentAndOptionsValidated(t *testing.T) {
	e := newEnv(t, true)
	require.NoError(t, e.m.Start(t.Context()))
	require.FileExists(t, e.m.SocketPath())
	require.NoError(t, e.m.Stop(context.Background()))
	require.NoError(t, e.m.Stop(context.Background()))
	require.NoFileExists(t, e.m.SocketPath())

	o := DefaultOptions()
	o.Handover = HandoverFast
	o.Workers, o.ResyncInterval = 0, -1
	_, err := New(o)
	require.ErrorContains(t, err, "Workers must be > 0, got 0")
	require.ErrorContains(t, err, "ResyncInterval must be > 0, got -1ns")
	require.ErrorContains(t, err, "Leadership must not be nil: a leadership source is required")
}

func TestSameProperties(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"Allocation":{"Size":2}}`, `{"Allocation":{"Size":2,"LogicalIDs":null}}`, true},
		{`{"a":1,"b":2}`, `{ "b": 2, "a": 1.0 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":{}}`, `{"a":null}`, false},
		{``, `null`, true},
		{`{`, `{`, true},
		{`{`, `{}`, false},
	}
	for _, c := range cases {
		t.Run(c.a+"~"+c.b, func(t *testing.T) {
			require.Equal(t, c.want, sameProperties(json.RawMessage(c.a), json.RawMessage(c.b)))
		})
	}
}

// The manager's Group API keeps the same contract as the plugin it fronts.
func TestFront_GroupContract(t *testing.T) {
	grouptest.RunGroupContract(t, func(t *testing.T) plugin.Group {
		e := newEnv(t, true)
		e.start(t)
		e.waitLeader(t, true)
		return e.m.Group()
	})
}

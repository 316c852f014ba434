package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
	"github.com/infrakit-manager/manager/sources"
)

// fastLease makes the lease short enough for tests to run it out.
func fastLease(o *Options) {
	o.LeaseDuration, o.RenewInterval, o.CheckTimeout = 300*time.Millisecond, 50*time.Millisecond, 100*time.Millisecond
}

func TestConvergence_APluginThatNormalisesIsCommittedOnce(t *testing.T) {
	// No Instance, and a field the plugin drops: the echo differs from the
	// stored spec, and must not be committed again at every resync.
	odd := plugin.Spec{ID: "odd", Properties: json.RawMessage(`{"Allocation":{"Size":1},"Extra":1,"Flavor":{"Plugin":"flavor-vanilla"}}`)}
	for _, echo := range []string{groupsim.EchoNormalised, groupsim.EchoVerbatim} {
		t.Run(echo, func(t *testing.T) {
			e := newEnv(t, true, func(o *Options) { o.ResyncInterval = 10 * time.Millisecond })
			so := groupsim.DefaultOptions()
			so.Echo = echo
			sim, err := groupsim.New(so)
			require.NoError(t, err)
			e.down.Swap(sim)
			e.start(t)
			_, err = e.m.Group().CommitGroup(t.Context(), odd, false)
			require.NoError(t, err)
			after := e.down.Inspected()
			eventually(t, func() bool { return e.down.Inspected() >= after+10 }, "ten resyncs")
			require.Equal(t, 1, e.down.Commits("odd"), "commits after ten resyncs")
			t.Logf("echo %s: commits of the group after %d resyncs: %d", echo, e.down.Inspected()-after, e.down.Commits("odd"))
		})
	}
}

func TestDestroy_AFailedDestroyStaysADestroy(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.MaxBackoff = 20 * time.Millisecond })
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)
	e.down.FailDestroys(3)
	err = e.m.Group().DestroyGroup(t.Context(), "cattle")
	require.ErrorContains(t, err, "destroy downstream failed, will retry")
	require.Empty(t, e.stored(t))
	eventually(t, func() bool { return e.down.Destroys("cattle") == 1 }, "destroyed after retries")
	require.Zero(t, e.down.Frees("cattle"), "a failed destroy never becomes a free")
	require.Empty(t, e.running(t))
}

// stepDownAfter makes the leadership source unknown with fault and returns
// how long it took until the first group was freed.
func stepDownAfter(t *testing.T, fault func(e *env)) time.Duration {
	t.Helper()
	e := newEnv(t, true, fastLease)
	e.start(t)
	for _, id := range []string{"a", "b"} {
		_, err := e.m.Group().CommitGroup(t.Context(), spec(id, 1), false)
		require.NoError(t, err)
	}
	start := time.Now()
	fault(e)
	eventually(t, func() bool { return len(e.running(t)) == 0 }, "stepped down")
	took := time.Since(start)
	require.Equal(t, RoleFollower, e.m.Role())
	// The last confirmation may be up to one renewal older than the fault.
	require.GreaterOrEqual(t, took, 300*time.Millisecond-50*time.Millisecond, "freed before the lease ran out")
	return took
}

func TestLeadership_UnknownHoldsForTheLeaseThenStepsDown(t *testing.T) {
	cases := []struct {
		name  string
		fault func(e *env)
	}{
		{"error", func(e *env) { e.leader.SetError(errors.New("open leader: too many open files")) }},
		{"hung check", func(e *env) { e.leader.SetHang(true) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			took := stepDownAfter(t, c.fault)
			t.Logf("%s: first free %s after the source became unknown (lease 300ms)", c.name, took.Round(time.Millisecond))
		})
	}
}

func TestLeadership_ABlipShorterThanTheLeaseChangesNothing(t *testing.T) {
	e := newEnv(t, true, func(o *Options) {
		o.LeaseDuration, o.RenewInterval, o.CheckTimeout = 2*time.Second, 20*time.Millisecond, 100*time.Millisecond
	})
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("a", 1), false)
	require.NoError(t, err)
	e.leader.SetError(errors.New("open leader: too many open files"))
	checks := e.leader.Checks()
	eventually(t, func() bool { return e.leader.Checks() >= checks+10 }, "ten failed renewals")
	e.leader.SetError(nil)
	require.Equal(t, RoleLeader, e.m.Role())
	require.Zero(t, e.down.Frees("a"))
	_, err = e.m.Group().CommitGroup(t.Context(), spec("b", 1), false)
	require.NoError(t, err, "a leader that rode out a blip keeps serving")
}

func TestStore_UnreadableChangesNothingDownstream(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.ResyncInterval = 10 * time.Millisecond })
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("a", 1), false)
	require.NoError(t, err)
	e.store.SetLoadError(errors.Join(sources.ErrCorrupt, errors.New("global.config is empty")))
	after := e.down.Inspected()
	eventually(t, func() bool { return e.down.Inspected() >= after+5 }, "five resyncs")
	require.Equal(t, []plugin.ID{"a"}, e.running(t))
	require.Zero(t, e.down.Frees("a"))
}

func TestStop_ConcurrentCallsAreSafe(t *testing.T) {
	e := newEnv(t, true)
	require.NoError(t, e.m.Start(t.Context()))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- e.m.Stop(context.Background()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoFileExists(t, e.m.SocketPath())
	require.Error(t, e.m.Start(t.Context()), "no start after stop")
}

func TestRunOnce_ActsOnNothingWhenAnythingIsUnknown(t *testing.T) {
	cases := []struct {
		name  string
		fault func(e *env)
		want  error
	}{
		{"leadership unknown", func(e *env) { e.leader.SetError(errors.New("open leader: no such file or directory")) }, ErrLeadershipUnknown},
		{"store unreadable", func(e *env) { e.store.SetLoadError(sources.ErrCorrupt) }, ErrDesiredUnknown},
	}
	for _, c := range cases {
		for _, leader := range []bool{true, false} {
			t.Run(c.name, func(t *testing.T) {
				e := newEnv(t, leader)
				_, err := e.down.CommitGroup(t.Context(), spec("running", 1), false)
				require.NoError(t, err)
				c.fault(e)
				var out bytes.Buffer
				_, err = e.m.RunOnce(t.Context(), &out, false)
				require.ErrorIs(t, err, c.want)
				require.Contains(t, out.String(), "acting on nothing")
				require.Equal(t, []plugin.ID{"running"}, e.running(t))
				require.Zero(t, e.down.Frees("running"))
			})
		}
	}
}

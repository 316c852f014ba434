package groupsim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/plugin"
)

// calls invokes each method of p once and returns its error.
func calls(p *Plugin) map[string]func(ctx context.Context) error {
	spec := plugin.Spec{ID: "g", Properties: props(`{"Size":1}`, "v1")}
	return map[string]func(ctx context.Context) error{
		MethodCommitGroup: func(ctx context.Context) error { _, err := p.CommitGroup(ctx, spec, false); return err },
		MethodFreeGroup:   func(ctx context.Context) error { return p.FreeGroup(ctx, "g") },
		MethodDescribeGroup: func(ctx context.Context) error {
			_, err := p.DescribeGroup(ctx, "g")
			return err
		},
		MethodDestroyGroup:  func(ctx context.Context) error { return p.DestroyGroup(ctx, "g") },
		MethodInspectGroups: func(ctx context.Context) error { _, err := p.InspectGroups(ctx); return err },
	}
}

func TestFail(t *testing.T) {
	for _, method := range Methods() {
		t.Run(method, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Faults.Fail = []string{"Group." + method}
			p := newTestPlugin(t, opts)
			for name, call := range calls(p) {
				err := call(t.Context())
				if name == method {
					require.EqualError(t, err, "simulated failure: "+method)
					require.ErrorIs(t, err, ErrSimulated)
				} else {
					require.NotErrorIs(t, err, ErrSimulated, name)
				}
			}
			// recovery at run time
			require.NoError(t, p.SetFaults(Faults{}))
			require.NotErrorIs(t, calls(p)[method](t.Context()), ErrSimulated)
		})
	}
}

func TestFailedCommitChangesNothing(t *testing.T) {
	p := newTestPlugin(t, DefaultOptions())
	require.NoError(t, p.SetFaults(Faults{Fail: []string{MethodCommitGroup}}))
	_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":1}`, "v1")}, false)
	require.ErrorIs(t, err, ErrSimulated)
	groups, err := p.InspectGroups(t.Context())
	require.NoError(t, err)
	require.Nil(t, groups)
}

func TestHangUntilContextDone(t *testing.T) {
	for _, method := range Methods() {
		t.Run(method, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Faults.Hang = []string{method}
			opts.Faults.Fail = []string{method} // hang wins
			p := newTestPlugin(t, opts)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- calls(p)[method](ctx) }()

			// Other methods are not affected while one hangs.
			for name, call := range calls(p) {
				if name != method {
					require.NotErrorIs(t, call(t.Context()), context.Canceled, name)
				}
			}
			select {
			case err := <-done:
				t.Fatalf("%s returned before its context was done: %v", method, err)
			default:
			}
			cancel()
			err := <-done
			require.ErrorIs(t, err, context.Canceled)
			require.Contains(t, err.Error(), "simulated hang: "+method)
		})
	}
}

func TestLatency(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Unix(1000, 0))
	opts := DefaultOptions()
	opts.Clock = fc
	opts.Faults.Latency = time.Second
	p := newTestPlugin(t, opts)

	done := make(chan error, 1)
	go func() {
		_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":1}`, "v1")}, false)
		done <- err
	}()
	require.Eventually(t, fc.HasWaiters, 5*time.Second, time.Millisecond)
	fc.Step(999 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("commit returned before its latency: %v", err)
	default:
	}
	fc.Step(time.Millisecond)
	require.NoError(t, <-done)

	// A cancelled context cuts the latency short.
	ctx, cancel := context.WithCancel(t.Context())
	go func() { _, err := p.InspectGroups(ctx); done <- err }()
	require.Eventually(t, fc.HasWaiters, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestFaultsValidation(t *testing.T) {
	cases := []struct {
		name   string
		faults Faults
		err    string
	}{
		{"ok", Faults{Latency: time.Millisecond, Fail: []string{"CommitGroup", "Group.FreeGroup"}, Hang: []string{" InspectGroups "}}, ""},
		{"negative latency", Faults{Latency: -1}, "groupsim: Latency must be >= 0, got -1ns"},
		{"unknown fail", Faults{Fail: []string{"Commit"}}, `groupsim: Fail unknown method "Commit" (want one of CommitGroup, FreeGroup, DescribeGroup, DestroyGroup, InspectGroups)`},
		{"unknown hang", Faults{Hang: []string{"Plugin.Implements"}}, `groupsim: Hang unknown method "Plugin.Implements" (want one of CommitGroup, FreeGroup, DescribeGroup, DestroyGroup, InspectGroups)`},
		{"negative late-by", Faults{LateBy: -1}, "groupsim: LateBy must be >= 0, got -1ns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newTestPlugin(t, DefaultOptions())
			err := p.SetFaults(c.faults)
			opts := DefaultOptions()
			opts.Faults = c.faults
			_, newErr := New(opts)
			if c.err == "" {
				require.NoError(t, err)
				require.NoError(t, newErr)
				return
			}
			require.EqualError(t, err, c.err)
			require.EqualError(t, newErr, c.err)
		})
	}
}

func TestParseMethods(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", []string{}, false},
		{"CommitGroup", []string{"CommitGroup"}, false},
		{" CommitGroup, Group.DestroyGroup ,,", []string{"CommitGroup", "DestroyGroup"}, false},
		{"CommitGroup,Nope", nil, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseMethods(c.in)
			if c.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Options)
		err    string
	}{
		{"defaults", func(*Options) {}, ""},
		{"nil clock", func(o *Options) { o.Clock = nil }, "groupsim: Clock must not be nil"},
		{"nil id", func(o *Options) { o.NewID = nil }, "groupsim: NewID must not be nil"},
		{"zero max", func(o *Options) { o.MaxInstances = 0 }, "groupsim: MaxInstances must be > 0, got 0"},
		{"zero echo", func(o *Options) { o.Echo = "" }, `groupsim: Echo must be "normalised" or "verbatim", got ""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := DefaultOptions()
			c.mutate(&opts)
			_, err := New(opts)
			if c.err == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, c.err)
			}
		})
	}
	require.False(t, errors.Is(nil, ErrSimulated))
}

func TestCloseReleasesWaitingCalls(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Unix(1000, 0))
	opts := DefaultOptions()
	opts.Clock = fc
	opts.Faults = Faults{Latency: time.Hour, Hang: []string{MethodFreeGroup}}
	p := newTestPlugin(t, opts)
	done := make(chan error, 2)
	go func() { _, err := p.InspectGroups(t.Context()); done <- err }()
	require.Eventually(t, fc.HasWaiters, 5*time.Second, time.Millisecond)
	require.NoError(t, p.SetFaults(Faults{Hang: []string{MethodFreeGroup}}))
	go func() { done <- p.FreeGroup(t.Context(), "g") }()
	select {
	case err := <-done:
		t.Fatalf("a call returned before Close: %v", err)
	default:
	}
	p.Close()
	p.Close() // idempotent
	for range 2 {
		require.ErrorIs(t, <-done, ErrClosed)
	}
	// later calls do not wait, and state is kept
	require.ErrorIs(t, p.FreeGroup(t.Context(), "g"), ErrClosed)
	_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":1}`, "v1")}, false)
	require.NoError(t, err)
}

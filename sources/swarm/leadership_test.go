package swarm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// callTimeout is the per-call timeout of the leadership tests: the default.
const callTimeout = time.Second

// hangBound is how long a check against a hung engine may take in these
// tests: far below the engine's own 20 s, with room for a loaded machine.
const hangBound = 5 * time.Second

// waitReport bounds waiting for a Watch report. A demotion is reported in
// well under a second; this is only the give-up point.
const waitReport = 30 * time.Second

func newLabLeadership(t *testing.T, i int) *Leadership {
	t.Helper()
	l, err := NewLeadership(newClient(t, sharedLab(t).Host(i), callTimeout), DefaultLeadershipOptions())
	require.NoError(t, err)
	return l
}

type report struct {
	leader bool
	err    error // unknown
	at     time.Time
}

// watch runs l.Watch until the test ends and, as the controller does, checks
// on every poke and every renewal (100ms); it reports each change of the
// answer (leader, not leader, unknown).
func watch(t *testing.T, l *Leadership) <-chan report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan report, 64)
	pokes := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- l.Watch(ctx, func() {
			select {
			case pokes <- struct{}{}:
			default:
			}
		})
	}()
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		var last *report
		renew := time.NewTicker(100 * time.Millisecond)
		defer renew.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-pokes:
			case <-renew.C:
			}
			st, err := l.Check(ctx)
			if ctx.Err() != nil {
				return
			}
			r := report{leader: st.Leader, err: err, at: time.Now()}
			if last == nil || last.leader != r.leader || (last.err == nil) != (r.err == nil) {
				last = &r
				ch <- r
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-checked
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(hangBound):
			t.Errorf("Watch did not return within %s of its context ending", hangBound)
		}
	})
	return ch
}

func next(t *testing.T, ch <-chan report, what string) report {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitReport):
		t.Fatalf("no report within %s: %s", waitReport, what)
		return report{}
	}
}

func TestLeadershipExactlyOneLeader(t *testing.T) {
	lab := sharedLab(t)
	var leaders []int
	for i := 1; i <= labNodes; i++ {
		st, err := newLabLeadership(t, i).Check(swarmtest.Context(t))
		require.NoError(t, err, "node %d", i)
		if st.Leader {
			leaders = append(leaders, i)
		}
	}
	require.Equal(t, []int{lab.Leader(t)}, leaders)
}

// Demoting the leader hands leadership over through Raft; the old leader's
// Watch reports false, the new one's true, and the demoted node, now a
// worker, is not the leader (without an error).
func TestLeadershipFollowsADemotion(t *testing.T) {
	lab := sharedLab(t)
	ctx := swarmtest.Context(t)
	old := lab.Leader(t)
	ls := map[int]*Leadership{}
	reports := map[int]<-chan report{}
	for i := 1; i <= labNodes; i++ {
		ls[i] = newLabLeadership(t, i)
		reports[i] = watch(t, ls[i])
		require.Equal(t, i == old, next(t, reports[i], "first status").leader, "node %d", i)
	}
	t.Cleanup(func() {
		lab.Promote(t, old)
		lab.Wait(t)
	})

	// Demote through the API from another manager, to time it precisely.
	api := rawAPI(t, lab.Host(old%labNodes+1))
	id, err := ls[old].node(ctx)
	require.NoError(t, err)
	n, _, err := api.NodeInspectWithRaw(ctx, id)
	require.NoError(t, err)
	n.Spec.Role = swarm.NodeRoleWorker
	start := time.Now()
	require.NoError(t, api.NodeUpdate(ctx, id, n.Version, n.Spec))
	updated := time.Now()

	lost := next(t, reports[old], "the old leader's loss")
	require.False(t, lost.leader)
	var gained report
	newLeader := 0
	for newLeader == 0 { // answers during the election may be unknown: wait for a leader
		select {
		case r := <-reports[old%labNodes+1]:
			if r.leader {
				gained, newLeader = r, old%labNodes+1
			}
		case r := <-reports[(old+1)%labNodes+1]:
			if r.leader {
				gained, newLeader = r, (old+1)%labNodes+1
			}
		case <-time.After(waitReport):
			t.Fatalf("no node reported leadership within %s of the demotion", waitReport)
		}
	}
	require.True(t, gained.leader, "node %d", newLeader)
	t.Logf("demotion of node %d: API call took %s; old leader reported false after %s; node %d reported leader after %s",
		old, updated.Sub(start).Round(time.Millisecond), lost.at.Sub(start).Round(time.Millisecond),
		newLeader, gained.at.Sub(start).Round(time.Millisecond))
	require.Equal(t, newLeader, lab.Leader(t))

	// the demoted node becomes a worker: not leader, and no error
	require.Eventually(t, func() bool {
		st, err := ls[old].Check(ctx)
		return !st.Leader && err == nil
	}, waitReport, 100*time.Millisecond, "a worker must report not leader without error")
}

func TestLeadershipUnreachableEngine(t *testing.T) {
	host := "unix://" + t.TempDir() + "/no-engine.sock"
	l, err := NewLeadership(newClient(t, host, callTimeout), DefaultLeadershipOptions())
	require.NoError(t, err)
	_, err = l.Check(swarmtest.Context(t))
	require.ErrorContains(t, err, host)
	first := next(t, watch(t, l), "first status")
	require.Error(t, first.err, "an unreachable engine is unknown, never not-leader")
}

// A frozen (SIGSTOPped) engine, or a follower whose leader is frozen, does
// not hold a check for the engine's 20 s: it fails after CallTimeout.
func TestLeadershipDoesNotHangOnAFrozenEngine(t *testing.T) {
	lab := sharedLab(t)
	ctx := swarmtest.Context(t)
	leader := lab.Leader(t)
	follower := leader%labNodes + 1
	lf, ll := newLabLeadership(t, follower), newLabLeadership(t, leader)
	for _, l := range []*Leadership{lf, ll} { // learn the node IDs first
		_, err := l.Check(ctx)
		require.NoError(t, err)
	}
	timedCheck := func(l *Leadership) (time.Duration, error) {
		start := time.Now()
		st, err := l.Check(ctx)
		require.False(t, st.Leader)
		return time.Since(start), err
	}

	t.Run("frozen engine", func(t *testing.T) {
		lab.Signal(t, follower, "STOP")
		defer lab.Signal(t, follower, "CONT")
		took, err := timedCheck(lf)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, took, hangBound)
		t.Logf("check of a frozen engine returned after %s: %v", took.Round(time.Millisecond), err)
	})

	t.Run("frozen leader", func(t *testing.T) {
		reports := watch(t, ll)
		require.True(t, next(t, reports, "first status").leader)
		lab.Signal(t, leader, "STOP")
		frozen := time.Now()
		resumed := false
		resume := func() {
			if !resumed {
				lab.Signal(t, leader, "CONT")
				resumed = true
			}
		}
		defer resume()
		took, err := timedCheck(lf) // forwarded to the frozen leader
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, took, hangBound)
		lost := next(t, reports, "the frozen leader's own watch")
		require.Error(t, lost.err, "a frozen engine is unknown")
		t.Logf("follower check with a frozen leader returned after %s; the leader's watch reported unknown after %s",
			took.Round(time.Millisecond), lost.at.Sub(frozen).Round(time.Millisecond))
		resume()
		lab.Wait(t)
		if lab.Leader(t) == leader { // frozen well under the election timeout
			require.True(t, next(t, reports, "leadership after resume").leader)
		}
	})
	lab.Wait(t)
}

func TestLeadershipOptions(t *testing.T) {
	c := newClient(t, "unix:///nowhere.sock", time.Second)
	l, err := NewLeadership(c, DefaultLeadershipOptions())
	require.NoError(t, err)
	require.NotNil(t, l.opts.Clock)
	require.Less(t, DefaultLeaseDuration, 10*time.Second, "the lease must stay below the Swarm's election time")
	_, err = NewLeadership(nil, DefaultLeadershipOptions())
	require.Error(t, err)
}

// clientWith returns the default ClientOptions changed by change.
func clientWith(change func(*ClientOptions)) ClientOptions {
	o := DefaultClientOptions()
	change(&o)
	return o
}

func TestClientOptions(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///from/env.sock")
	def := DefaultClientOptions()
	require.Equal(t, "unix:///from/env.sock", def.Host)
	require.True(t, def.TLSVerify, "certificate verification must be on by default")
	require.Equal(t, time.Second, def.CallTimeout)

	cases := []struct {
		name string
		opts ClientOptions
		err  string
	}{
		{"defaults", def, ""},
		{"zero value", ClientOptions{}, "CallTimeout must be > 0, got 0s\nHost must not be empty"},
		{"bad host", clientWith(func(o *ClientOptions) { o.Host = "::nope" }), `Host "::nope"`},
		{"unknown host scheme", clientWith(func(o *ClientOptions) { o.Host = "bogus://x" }), "unknown scheme"},
		{"negative timeout", clientWith(func(o *ClientOptions) { o.CallTimeout = -1 }), "CallTimeout must be > 0, got -1ns"},
		{"cert without key", clientWith(func(o *ClientOptions) { o.TLSCert = "c.pem" }), "TLSCert and TLSKey must be given together"},
		{"missing CA file", clientWith(func(o *ClientOptions) { o.TLSCACert = "/nonexistent/ca.pem" }), "CA certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := NewClient(c.opts)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "unix:///from/env.sock", cl.Host())
			require.NoError(t, cl.Close())
		})
	}
}

// Fault 15: TLSVerify means verify, and only false skips verification.
func TestTLSVerifyIsNotInverted(t *testing.T) {
	for _, verify := range []bool{true, false} {
		cfg, err := tlsConfig(ClientOptions{TLSVerify: verify})
		require.NoError(t, err)
		require.Equal(t, !verify, cfg.InsecureSkipVerify, "TLSVerify=%v", verify)
	}
}

func TestNodeEventsMarkAHandover(t *testing.T) {
	cases := []struct {
		name  string
		id    string
		attrs map[string]string
		want  bool
	}{
		{"this node stops leading", "self", map[string]string{"leader.old": "true", "leader.new": "false"}, true},
		{"this node is demoted", "self", map[string]string{"role.old": "manager", "role.new": "worker"}, true},
		{"another node leads", "other", map[string]string{"leader.old": "false", "leader.new": "true"}, true},
		{"this node becomes leader", "self", map[string]string{"leader.new": "true"}, false},
		{"another node stops leading", "other", map[string]string{"leader.new": "false"}, false},
		{"unrelated change", "self", map[string]string{"availability.new": "drain"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := NewLeadership(newClient(t, "unix:///nowhere.sock", time.Second), DefaultLeadershipOptions())
			require.NoError(t, err)
			l.nodeID = "self"
			l.noteNodeEvent(c.id, c.attrs)
			require.Equal(t, c.want, l.wasHandedOver())
			l.setHandedOver(false) // an answer "leader" clears it
			require.False(t, l.wasHandedOver())
		})
	}
}

// The answers of a demoted node's engine, as measured in the swarm lab.
func TestEngineAnswersThatMeanNotLeader(t *testing.T) {
	cases := []struct {
		text     string
		notLead  bool
		isWorker bool
	}{
		{`Error response from daemon: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial unix /var/lib/docker/swarm/control.sock: connect: no such file or directory"`, true, false},
		{`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial unix /run/docker/swarm/control.sock: connect: connection refused"`, true, false},
		{`This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state.`, false, true},
		{`error during connect: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.41/nodes/x": context deadline exceeded`, false, false},
		{`rpc error: code = DeadlineExceeded desc = context deadline exceeded`, false, false},
	}
	for _, c := range cases {
		err := errors.New(c.text)
		require.Equal(t, c.notLead, isNoManager(err), c.text)
		require.Equal(t, c.isWorker, isWorker(err), c.text)
	}
}

package e2e

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

const (
	// simLatency is the downstream's latency while it is killed mid-call.
	simLatency = "500ms"
	// killAttempts bounds the retries when a stalled machine lets the
	// commit finish before the kill lands.
	killAttempts = 3
	// hangCallTimeout is the manager's --call-timeout against a hung
	// downstream, and hangCommits how many commits are made against it.
	hangCallTimeout = "300ms"
	hangCommits     = 5
)

// TestFaultDownstreamKilledMidCommit: the downstream is killed (SIGKILL)
// while the manager's commit is in flight to it. The user gets a clear
// error saying the group is stored but not applied; the manager keeps
// serving; a healthy downstream started later runs the group.
func TestFaultDownstreamKilledMidCommit(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim("--latency", simLatency)
	a.startManager()
	ctx := t.Context()
	mgr := groupClient(t, a.socket())

	var id string
	var commitErr error
	for attempt := 1; ; attempt++ {
		id = fmt.Sprintf("inflight-%d", attempt)
		done := make(chan error, 1)
		go func() { _, err := mgr.CommitGroup(ctx, faultSpec(id), false); done <- err }()
		// The manager validates (one latency), stores, then commits for
		// real (another latency): the kill lands inside the second call.
		waitStored(t, c, id, done)
		a.sim.Kill()
		commitErr = <-done
		if commitErr != nil || attempt == killAttempts {
			break
		}
		t.Logf("attempt %d: the commit finished before the kill; retrying", attempt)
		a.startSim("--latency", simLatency)
	}
	require.Error(t, commitErr, "the downstream was killed mid-commit %d times, yet every commit succeeded", killAttempts)
	var rpcErr *plugin.RPCError
	require.ErrorAs(t, commitErr, &rpcErr, "the manager itself must answer")
	require.Contains(t, commitErr.Error(), "stored, not yet applied downstream")
	t.Logf("commit with the downstream killed mid-call: %v", commitErr)

	// Still serving, and the group is stored.
	_, err := mgr.Implements(ctx)
	require.NoError(t, err)
	require.Contains(t, c.stored(), id)
	require.False(t, a.mgr.exited())

	// A healthy downstream gets the stored group from the manager's resync.
	restart := time.Now().UnixNano()
	a.startSim()
	stored := c.stored()
	require.Eventually(t, func() bool { return a.simRuns(ctx, stored...) }, eventually, tick)
	t.Logf("%s applied %s after the healthy downstream started", id,
		ms(a.firstEvent(restart, "commit", id)-restart))
	_, err = mgr.CommitGroup(ctx, faultSpec("after"), false)
	require.NoError(t, err)
	require.Equal(t, 0, a.mgr.Stop())
}

// waitStored waits until the store holds id; the commit must not return
// first.
func waitStored(t *testing.T, c *osCluster, id string, done <-chan error) {
	t.Helper()
	deadline := time.After(eventually)
	for !slices.Contains(c.stored(), id) {
		select {
		case err := <-done:
			t.Fatalf("the commit of %s returned before it was stored: %v", id, err)
		case <-deadline:
			t.Fatalf("%s was never stored", id)
		case <-time.After(time.Millisecond):
		}
	}
}

// TestFaultDownstreamHangs: a downstream that never answers: a group plugin
// whose CommitGroup hangs, and a socket that accepts connections but never
// reads them. With --call-timeout 300ms, commits fail with a timeout the
// manager reports itself, nothing is stored, and the manager keeps
// answering ls and Plugin.Implements meanwhile. The groups stored before
// run once a healthy downstream replaces the hung one.
func TestFaultDownstreamHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts real processes")
	}
	cases := []struct {
		name  string
		start func(t *testing.T, n *osNode) (replace func())
	}{
		{"sim hangs CommitGroup", func(t *testing.T, n *osNode) func() {
			n.startSim("--hang", "CommitGroup")
			return func() { n.sim.Kill(); n.startSim() }
		}},
		{"socket accepts, never reads", func(t *testing.T, n *osNode) func() {
			b := startBlackHole(t, n.downstreamSocket())
			return func() { b.close(); n.startSim() }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newOSCluster(t, nameA)
			a := c.node(nameA)
			stored := c.storeGroups("h1", "h2", "h3")
			storeBytes := fileBytes(t, c.storePath())
			replace := tc.start(t, a)
			a.startManager("--call-timeout", hangCallTimeout, "--max-backoff", "500ms")
			ctx := t.Context()
			mgr := groupClient(t, a.socket())

			type result struct {
				err  error
				took time.Duration
			}
			results := make(chan result, hangCommits)
			go func() {
				defer close(results)
				for i := range hangCommits {
					start := time.Now()
					_, err := mgr.CommitGroup(ctx, faultSpec(fmt.Sprintf("late-%d", i)), false)
					results <- result{err, time.Since(start)}
				}
			}()
			// Meanwhile the manager answers what needs no downstream.
			answered, slowest := 0, time.Duration(0)
			for busy := true; busy; {
				busy = len(results) < hangCommits
				start := time.Now()
				_, err := mgr.Implements(ctx)
				require.NoError(t, err)
				specs, err := mgr.InspectGroups(ctx)
				require.NoError(t, err)
				require.Len(t, specs, len(stored))
				slowest = max(slowest, time.Since(start))
				if busy {
					answered++
				}
			}
			require.NotZero(t, answered, "no ls/Implements answered while the commits hung")
			for r := range results {
				var rpcErr *plugin.RPCError
				require.ErrorAs(t, r.err, &rpcErr, "the manager must answer the hung commit itself")
				require.Contains(t, r.err.Error(), "nothing stored")
				require.Contains(t, r.err.Error(), "deadline exceeded")
				t.Logf("commit failed after %s: %v", r.took.Round(time.Millisecond), r.err)
			}
			t.Logf("answered=%d ls+Implements pairs while commits hung, slowest pair %s", answered, slowest.Round(time.Millisecond))
			require.Equal(t, storeBytes, fileBytes(t, c.storePath()), "a commit that timed out stored something")
			require.False(t, a.mgr.exited())

			replace()
			require.Eventually(t, func() bool { return a.simRuns(ctx, stored...) }, eventually, tick,
				"the stored groups never ran on the healthy downstream")
			_, err := mgr.CommitGroup(ctx, faultSpec("late-ok"), false)
			require.NoError(t, err)
			require.Equal(t, 0, a.mgr.Stop())
		})
	}
}

// blackHole is a unix socket that accepts connections and never reads or
// answers them.
type blackHole struct {
	ln    net.Listener
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	conns []net.Conn
}

func startBlackHole(t *testing.T, path string) *blackHole {
	t.Helper()
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	b := &blackHole{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			conn, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, conn)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(b.close)
	return b
}

// close stops accepting (removing the socket file) and drops every held
// connection. It is idempotent.
func (b *blackHole) close() {
	b.once.Do(func() {
		_ = b.ln.Close()
		<-b.done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			_ = c.Close()
		}
	})
}

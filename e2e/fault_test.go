package e2e

// The fault suite (fault_*_test.go, run with `go test -race -run Fault
// ./e2e/...`) hurts real manager and downstream processes the ways
// production will: kill -9 under load (fault_durability_test.go), broken
// stores (fault_store_test.go), dead and hung downstreams
// (fault_downstream_test.go), leader-file storms (fault_flips_test.go), and
// here the odd leader files and a second manager on the same socket. Every
// test prints what it measured with t.Logf and is skipped with -short.

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// requireNotLeader checks that the manager refuses a commit with the
// original's not-a-leader answer.
func requireNotLeader(t *testing.T, mgr *plugin.Client, id string) {
	t.Helper()
	_, err := mgr.CommitGroup(t.Context(), faultSpec(id), false)
	var rpcErr *plugin.RPCError
	require.ErrorAs(t, err, &rpcErr)
	require.Equal(t, "not-a-leader", rpcErr.Message)
}

// TestFaultLeaderFile: the leader file is deleted (not leader: the groups
// are freed), replaced by a rename (leader again), renamed to another name,
// rewritten in place with CRLF "group\r\n" (leader: CR is trimmed), and
// replaced by a directory (not leader, an error naming the file is logged,
// the manager keeps serving); a file again makes it lead again.
func TestFaultLeaderFile(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("lf1", "lf2")
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	ctx := t.Context()
	mgr := groupClient(t, a.socket())

	leads := func(t *testing.T) {
		t.Helper()
		require.Eventually(t, func() bool { return a.simRuns(ctx, stored...) }, eventually, tick, "never led")
	}
	follows := func(t *testing.T) {
		t.Helper()
		require.Eventually(t, func() bool { return a.simRuns(ctx) }, eventually, tick, "never stepped down")
		requireNotLeader(t, mgr, "refused")
	}
	steps := []struct {
		name   string
		change func(t *testing.T)
		check  func(t *testing.T)
	}{
		{"leader at start", func(*testing.T) {}, leads},
		{"deleted", func(t *testing.T) { require.NoError(t, os.Remove(c.leaderFile)) }, follows},
		{"replaced by rename", func(t *testing.T) { c.setLeader(nameA) }, leads},
		{"renamed to another name", func(t *testing.T) { c.setLeader(nameB) }, follows},
		{"CRLF written in place", func(t *testing.T) {
			require.NoError(t, os.WriteFile(c.leaderFile, []byte(nameA+"\r\n"), 0o600))
		}, leads},
		{"made a directory", func(t *testing.T) {
			require.NoError(t, os.Remove(c.leaderFile))
			require.NoError(t, os.Mkdir(c.leaderFile, 0o700))
		}, func(t *testing.T) {
			follows(t)
			require.Eventually(t, func() bool {
				log := a.mgr.Stderr()
				return strings.Contains(log, "leadership unknown") && strings.Contains(log, c.leaderFile) &&
					strings.Contains(log, "is a directory")
			}, eventually, tick, "no error logged for the leader directory")
			_, err := mgr.Implements(ctx)
			require.NoError(t, err)
			specs, err := mgr.InspectGroups(ctx)
			require.NoError(t, err)
			require.Len(t, specs, len(stored), "ls answers the store on a follower too")
		}},
		{"a file again", func(t *testing.T) {
			require.NoError(t, os.Remove(c.leaderFile))
			c.setLeader(nameA)
		}, leads},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			mark := time.Now()
			s.change(t)
			s.check(t)
			require.False(t, a.mgr.exited(), "the manager exited")
			t.Logf("%s: settled in %s", s.name, time.Since(mark).Round(time.Millisecond))
		})
		if !ok {
			return
		}
	}
	require.Equal(t, 0, a.mgr.Stop())
}

// TestFaultSameName: a second manager started with the same --name in the
// same plugin dir refuses to start, exit 1, with an error naming the
// socket; it touches neither the socket nor the store nor the downstream,
// and the first manager keeps serving commits.
func TestFaultSameName(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	first := a.startManager()
	ctx := t.Context()
	mgr := groupClient(t, a.socket())
	_, err := mgr.CommitGroup(ctx, faultSpec("one"), false)
	require.NoError(t, err)
	storeBytes := fileBytes(t, c.storePath())
	socketInfo, err := os.Lstat(a.socket())
	require.NoError(t, err)

	mark := time.Now().UnixNano()
	second := startProc(t, binary(t, "infrakit-manager"), nil, a.managerArgs()...)
	require.Equal(t, 1, second.Wait(stopTimeout), "stderr: %s", second.Stderr())
	errOut := second.Stderr()
	require.Contains(t, errOut, a.socket(), "the error names the socket")
	require.Contains(t, errOut, "in use")
	t.Logf("second manager: %s", lastLine(errOut))

	now, err := os.Lstat(a.socket())
	require.NoError(t, err, "the first manager's socket is gone")
	require.True(t, os.SameFile(socketInfo, now), "the socket was replaced")
	require.Equal(t, storeBytes, fileBytes(t, c.storePath()))
	require.Empty(t, a.eventsSince(mark, "free", "one"), "the refused manager freed a group")

	_, err = mgr.CommitGroup(ctx, faultSpec("two"), false)
	require.NoError(t, err, "the first manager stopped serving commits")
	require.True(t, a.simRuns(ctx, "one", "two"))
	require.False(t, first.exited())
	require.Equal(t, 0, first.Stop())
}

// lastLine is the last non-blank line of s.
func lastLine(s string) string {
	lines := nonEmptyLines(s)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

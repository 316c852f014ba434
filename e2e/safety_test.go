package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// The safety suite: each fault that broke "exactly the leader runs exactly
// the stored groups" in the first version, reproduced with real processes,
// and what happens now. Every case prints its figures.

// okEvents counts the successful events of op on group since the mark.
func (n *osNode) okEvents(since int64, op, group string) int {
	n.c.t.Helper()
	count := 0
	for _, ev := range n.eventsSince(since, op, group) {
		if ev.OK {
			count++
		}
	}
	return count
}

// allEvents counts the events (failed ones too) of op on any group since.
func (n *osNode) allEvents(since int64, op string, ids ...string) int {
	n.c.t.Helper()
	count := 0
	for _, id := range ids {
		count += len(n.eventsSince(since, op, id))
	}
	return count
}

// resyncsSince counts the manager's reads of its downstream since the mark
// (InspectGroups, one per resync), failed ones too: a test that proves that
// resyncs do nothing waits for them with this, calling no ls of its own.
func (n *osNode) resyncsSince(since int64) int {
	n.c.t.Helper()
	return len(n.eventsSince(since, groupsim.OpInspect, ""))
}

// waitResyncs waits until the manager has resynced k times since the mark.
func (n *osNode) waitResyncs(since int64, k int) {
	n.c.t.Helper()
	require.Eventually(n.c.t, func() bool { return n.resyncsSince(since) >= k }, eventually, tick,
		"node %s: fewer than %d resyncs since the mark", n.name, k)
}

// countLines counts the manager's log lines holding msg.
func countLines(log, msg string) int { return strings.Count(log, msg) }

// 1. A plugin that echoes specs normalised (unknown fields dropped, an
// absent Instance filled) is committed once, not at every resync.
func TestSafetyConvergesOnANormalisingPlugin(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim("--echo", "normalised")
	a.startManager()
	spec := `{"ID":"odd","Properties":{"Allocation":{"Size":1},"Extra":1,"Flavor":{"Plugin":"flavor-vanilla","Properties":{}}}}`
	mark := time.Now().UnixNano()
	_, errOut, exit := a.cli("commit", c.writeSpec("odd", spec))
	require.Equal(t, 0, exit, errOut)
	// Proving that resyncs do nothing needs them to happen: five of them.
	a.waitResyncs(mark, 5)
	commits := a.okEvents(mark, "commit", "odd")
	t.Logf("normalising plugin: commits of the group after %d resyncs: %d", a.resyncsSince(mark), commits)
	require.Equal(t, 1, commits)
	require.True(t, a.runs("odd"))
	require.Contains(t, a.mgr.Stderr(), "committed group", "every downstream change is logged at info")
}

// 2. A destroy that fails downstream stays a destroy: it is retried and
// never turned into a free that would leave the instances unmanaged.
func TestSafetyAFailedDestroyIsNeverAFree(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim("--fail", "DestroyGroup")
	a.startManager("--max-backoff", "200ms")
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	mark := time.Now().UnixNano()
	_, errOut, exit = a.cli("destroy", "cattle")
	require.NotEqual(t, 0, exit)
	require.Contains(t, errOut, "will retry")
	require.Eventually(t, func() bool { return a.allEvents(mark, "destroy", "cattle") >= 4 }, eventually, tick, "destroy retried")
	destroys, frees := a.allEvents(mark, "destroy", "cattle"), a.allEvents(mark, "free", "cattle")
	t.Logf("failing destroy: destroy attempts=%d frees=%d", destroys, frees)
	require.Zero(t, frees, "a failed destroy became a free")
	require.Empty(t, c.stored())
}

// 3. --once with a mistyped --leader-file acts on nothing and exits 1.
func TestSafetyOnceWithAMistypedLeaderFile(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("g1", "g2")
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	require.Equal(t, 0, a.mgr.Stop())
	mark := time.Now().UnixNano()
	args := []string{"--once", "--name", a.name, "--plugin-dir", a.dir, "os",
		"--leader-file", c.leaderFile + ".typo", "--store-dir", c.storeDir}
	out, errOut, exit := runManagerOnce(t, args...)
	calls := a.allEvents(mark, "free", stored...) + a.allEvents(mark, "commit", stored...) + a.allEvents(mark, "destroy", stored...)
	t.Logf("--once with a mistyped leader file: exit=%d downstream changes=%d", exit, calls)
	require.Equal(t, 1, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, out, "acting on nothing")
	require.Contains(t, out, ".typo")
	require.Contains(t, out, "--leader-file", "the message names the flag to correct")
	require.Zero(t, calls)
	require.True(t, a.runs(stored...))
}

// 4. Unknown is not "no": a FIFO at the leader path never blocks the check;
// the leader holds its groups for the lease and then steps down; running
// out of descriptors frees nothing before the lease runs out.
func TestSafetyFIFOLeaderFileStepsDownAfterTheLease(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("f1", "f2")
	a := c.node(nameA)
	a.startSim()
	a.startManager("--lease-duration", "2s")
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	require.NoError(t, os.Remove(c.leaderFile))
	require.NoError(t, syscall.Mkfifo(c.leaderFile, 0o600))
	fifoAt := time.Now().UnixNano()
	freed := a.firstEvent(fifoAt, "free", "f1")
	stepDown := time.Duration(freed - fifoAt)
	t.Logf("FIFO at the leader path: first free after %s (lease 2s)", stepDown.Round(time.Millisecond))
	require.GreaterOrEqual(t, stepDown, 1500*time.Millisecond, "freed before the lease ran out")
	// The manager is alive and answers; the FIFO was never opened blocking.
	_, err := groupClient(t, a.socket()).Implements(t.Context())
	require.NoError(t, err)
	require.Contains(t, a.mgr.Stderr(), "is a FIFO")
	requireNotLeader(t, groupClient(t, a.socket()), "fifo")
}

func TestSafetyDescriptorExhaustionFreesNothingBeforeTheLease(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("d1", "d2")
	a := c.node(nameA)
	a.startSim()
	a.startManager("--lease-duration", "2s")
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	// Lower the running manager's descriptor limit, then hold connections
	// until it has none left.
	const limit = 48
	out, err := exec.Command("prlimit", "--pid", strconv.Itoa(a.mgr.Pid()), fmt.Sprintf("--nofile=%d:%d", limit, limit)).CombinedOutput()
	require.NoError(t, err, string(out))
	var conns []net.Conn
	t.Cleanup(func() {
		for _, cn := range conns {
			_ = cn.Close()
		}
	})
	mark := time.Now().UnixNano()
	for range 2 * limit {
		cn, err := net.DialTimeout("unix", a.socket(), 200*time.Millisecond)
		if err != nil {
			break
		}
		conns = append(conns, cn)
	}
	// The fault first: the manager ran out of descriptors (it says so).
	require.Eventually(t, func() bool { return strings.Contains(a.mgr.Stderr(), "too many open files") }, eventually, tick,
		"the manager never hit EMFILE")
	emfileAfter := time.Since(time.Unix(0, mark))
	// Then the outcome: within the lease (2s) nothing is freed. The window
	// is the lease itself, so it is waited out, from the mark.
	time.Sleep(1500*time.Millisecond - time.Since(time.Unix(0, mark))) //nolint:forbidigo // within the lease nothing may happen
	early := a.allEvents(mark, "free", stored...)
	t.Logf("descriptor exhaustion (RLIMIT_NOFILE=%d, %d connections held): EMFILE in the manager log after %s, frees within 1.5s=%d",
		limit, len(conns), emfileAfter.Round(time.Millisecond), early)
	require.Zero(t, early, "freed before the lease ran out")
	for _, cn := range conns {
		_ = cn.Close()
	}
	conns = nil
	require.False(t, a.mgr.exited())
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick, "still runs the stored groups once descriptors are back")
}

// 5. A 0-byte global.config is unreadable, never "no groups"; 6. a FIFO in
// its place never hangs the manager. Either way nothing is freed, the
// manager keeps answering, and a clear error names the file.
func TestSafetyUnreadableStoreFreesNothing(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, path string)
		want    string
	}{
		{"0-byte file", func(t *testing.T, p string) { require.NoError(t, os.Truncate(p, 0)) }, "{}"},
		{"FIFO", func(t *testing.T, p string) {
			require.NoError(t, os.Remove(p))
			require.NoError(t, syscall.Mkfifo(p, 0o600))
		}, "FIFO"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newOSCluster(t, nameA)
			stored := c.storeGroups("s1", "s2")
			a := c.node(nameA)
			a.startSim()
			a.startManager()
			require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
			mark := time.Now().UnixNano()
			tc.breakIt(t, c.storePath())
			// Several resyncs over the broken store must pass without action.
			a.waitResyncs(mark, 5)
			frees := a.allEvents(mark, "free", stored...)
			threads := procThreads(t, a.mgr.Pid())
			mgr := groupClient(t, a.socket())
			_, err := mgr.InspectGroups(t.Context())
			t.Logf("%s store: frees=%d threads=%d inspect error=%v", tc.name, frees, threads, err)
			require.Zero(t, frees)
			require.True(t, a.runs(stored...))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Less(t, threads, 200, "blocked store calls piled up")
			require.False(t, a.mgr.exited())
			_, err = mgr.CommitGroup(t.Context(), faultSpec("new"), false)
			require.Error(t, err, "nothing is written over an unreadable store")
		})
	}
}

// procThreads reads the thread count of pid from /proc.
func procThreads(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no Threads line in /proc/%d/status", pid)
	return 0
}

// 7. SIGHUP re-checks instead of killing; a graceful stop with requests in
// flight answers them and removes the socket.
func TestSafetySIGHUPRechecksAndNeverKills(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("h1")
	a := c.node(nameA)
	a.startSim("--latency", "300ms")
	a.startManager()
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	a.mgr.Signal(syscall.SIGHUP)
	require.Eventually(t, func() bool { return strings.Contains(a.mgr.Stderr(), "re-checking leadership and store") },
		eventually, tick, "SIGHUP not logged")
	require.False(t, a.mgr.exited(), "SIGHUP killed the manager")
	require.FileExists(t, a.socket())

	// A commit in flight when SIGTERM arrives is answered, then the socket goes.
	done := make(chan error, 1)
	go func() {
		_, err := groupClient(t, a.socket()).CommitGroup(t.Context(), faultSpec("late"), false)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) //nolint:forbidigo // let the request reach the slow downstream
	require.Equal(t, 0, a.mgr.Stop())
	require.NoError(t, <-done, "the in-flight request was cut")
	require.NoFileExists(t, a.socket())
}

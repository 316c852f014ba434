package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 22: misconfiguration is caught. Two managers with the same --name
// on one leader file and store, and two managers driving one downstream,
// are refused at start (exit 1, naming the holder) before either acts; a
// second manager that slips past (the lock file replaced after the first
// started) is shown by the first within one resync, in `infrakit manager
// status` and /readyz. The .ci/run lines are "misconfig detected: ...".

// twinNode is a node with the same --name as n but its own plugin dir
// and downstream.
func (c *osCluster) twinNode(n *osNode, suffix string) *osNode {
	c.t.Helper()
	t := c.node(n.name + suffix)
	t.name = n.name
	return t
}

func TestOSMisconfigSameName(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("m1", "m2")
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)

	twin := c.twinNode(a, "-twin")
	twin.startSim()
	mark := time.Now().UnixNano()
	p := startProc(t, binary(t, "infrakit-manager"), nil, twin.managerArgs()...)
	exit := p.Wait(eventually)
	errOut := p.Stderr()
	line := lastLine(errOut)
	t.Logf("misconfig detected: case=same-name exit=%d: %s", exit, line)
	require.Equal(t, 1, exit, errOut)
	require.Contains(t, line, `misconfiguration: --name "group" on the store in `+c.storeDir)
	require.Contains(t, line, fmt.Sprintf("held by group (pid %d", a.mgr.Pid()))
	require.Empty(t, twin.running(), "the refused twin acted on its downstream")
	require.Zero(t, twin.allEvents(mark, "commit", stored...))
	require.Zero(t, a.allEvents(mark, "free", stored...))
	require.True(t, a.runs(stored...))
	require.Equal(t, 0, a.mgr.Stop())

	// Once the first has stopped, the twin may start (a replacement).
	twin.startManager()
	require.Eventually(t, func() bool { return twin.runs(stored...) }, eventually, tick)
	require.Equal(t, 0, twin.mgr.Stop())
}

func TestOSMisconfigSharedDownstream(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("s1", "s2")
	a := c.node(nameA)
	a.startSim()
	a.startManager("--metrics-addr", "127.0.0.1:0")
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	mark := time.Now().UnixNano()

	// The README walkthrough tried with one simulator: a second manager,
	// its own --name, the first one's plugin dir and downstream.
	b := &osNode{c: c, name: nameB, dir: a.dir, events: a.events}
	p := startProc(t, binary(t, "infrakit-manager"), nil, b.managerArgs()...)
	exit := p.Wait(eventually)
	errOut := p.Stderr()
	line := lastLine(errOut)
	t.Logf("misconfig detected: case=shared-downstream exit=%d: %s", exit, line)
	require.Equal(t, 1, exit, errOut)
	require.Contains(t, line, `misconfiguration: downstream "group-stateless"`)
	require.Contains(t, line, filepath.Join(a.dir, "group-stateless.lock"))
	require.Contains(t, line, fmt.Sprintf("held by group (pid %d", a.mgr.Pid()))
	require.NoFileExists(t, b.socket(), "the refused manager still serves")
	require.Zero(t, a.allEvents(mark, "free", stored...), "the refused manager freed groups")
	require.True(t, a.runs(stored...))

	// A second manager that slips past the start check (the lock file
	// replaced under the first) is shown by the first within one resync.
	lock := filepath.Join(a.dir, "group-stateless.lock")
	require.NoError(t, renameFile(lock, lock+".old"))
	b.startManager()
	var status string
	require.Eventually(t, func() bool {
		var exit int
		status, exit = a.managerStatus()
		return exit == 1 && strings.Contains(status, "misconfiguration")
	}, eventually, tick, "status never showed the second manager: %s", status)
	problem := ""
	for _, l := range strings.Split(status, "\n") {
		if strings.Contains(l, "misconfiguration") {
			problem = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Problem:"))
		}
	}
	t.Logf("misconfig detected: case=shared-downstream-after-start status: %s", problem)
	require.Contains(t, problem, fmt.Sprintf("held by group2 (pid %d", b.mgr.Pid()))
	code, body := httpGet(t, a.opsAddr(), "/readyz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "claims: misconfiguration: downstream")
	require.Contains(t, a.mgr.Stderr(), "misconfiguration: another manager holds this claim")
	require.Equal(t, 0, b.mgr.Stop())
	require.Equal(t, 0, a.mgr.Stop())
}

// renameFile renames old to new.
func renameFile(old, new string) error { return os.Rename(old, new) }
